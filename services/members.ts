import { parsePhone } from '../connectors/normalize';
import type { Db } from '../db/knex';
import { countAdmins, deleteMember, findMemberProfile, listMembers, upsertMember, type MemberFields, type MemberProfileRow } from '../db/repositories/members';
import { findOrganizationSettings, updateOrganizationSettings, type OrganizationSettings } from '../db/repositories/organizations';
import { withTenant, type Tenant } from '../db/tenant';
import { notFound, ok, refuse, type Result } from './result';

export type MemberRefusalCode = 'not_found' | 'invalid_phone' | 'invalid_time_zone' | 'last_admin';

/** True for an IANA zone this runtime knows (`Europe/Lisbon`), which is what every date is computed in. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone.length <= 64;
  } catch {
    return false;
  }
}

/** The member fields as stored: a phone in E.164 (what SMS providers take), refused when it is not a number. */
function normalise(fields: MemberFields): Result<MemberFields, 'invalid_phone' | 'invalid_time_zone'> {
  const out = { ...fields };
  if (typeof fields.phone === 'string') {
    const parsed = parsePhone(fields.phone);
    if (!parsed) return refuse('invalid_phone', 'The phone number is not one: give it with its country code (+44 20 7946 0958)', { field: 'phone' });
    out.phone = parsed.e164;
  }
  if (typeof fields.time_zone === 'string' && !isTimeZone(fields.time_zone)) {
    return refuse('invalid_time_zone', `"${fields.time_zone}" is not an IANA time zone (Europe/Lisbon)`, { field: 'time_zone' });
  }
  return ok(out);
}

/**
 * The people who take tours, as the organisation's admins (or the app's backend with an admin token)
 * manage them: an upsert by user id with their contact details and profile (targeting reads the
 * profile, the hub's providers the contact details), and the organisation's opt-in to creating members
 * from their tokens. The last admin is never removed or demoted.
 */
export function createMemberService(deps: { db: Db }) {
  const { db } = deps;
  return {
    list(auth: Tenant, page: { limit: number; after?: string }): Promise<MemberProfileRow[]> {
      return withTenant(db, auth, (trx) => listMembers(trx, page));
    },

    async get(auth: Tenant, userId: string): Promise<Result<MemberProfileRow, 'not_found'>> {
      const row = await withTenant(db, auth, (trx) => findMemberProfile(trx, userId));
      return row ? ok(row) : notFound('Member', { user_id: userId });
    },

    /** Creates the member (created: true) or changes the fields given. */
    async upsert(auth: Tenant, userId: string, fields: MemberFields): Promise<Result<{ row: MemberProfileRow; created: boolean }, 'invalid_phone' | 'invalid_time_zone' | 'last_admin'>> {
      const normalised = normalise(fields);
      if (!normalised.ok) return normalised;
      return withTenant(db, auth, async (trx) => {
        if (fields.role === 'member') {
          const current = await findMemberProfile(trx, userId);
          if (current?.role === 'admin' && (await countAdmins(trx)) <= 1) {
            return refuse('last_admin', 'This is the organisation\'s only admin: make another member an admin first', { user_id: userId });
          }
        }
        return ok(await upsertMember(trx, auth.orgId, userId, normalised.value));
      });
    },

    async remove(auth: Tenant, userId: string): Promise<Result<{ deleted: true }, 'not_found' | 'last_admin'>> {
      return withTenant(db, auth, async (trx) => {
        const current = await findMemberProfile(trx, userId);
        if (!current) return notFound('Member', { user_id: userId });
        if (current.role === 'admin' && (await countAdmins(trx)) <= 1) {
          return refuse('last_admin', 'This is the organisation\'s only admin: make another member an admin first', { user_id: userId });
        }
        await deleteMember(trx, userId);
        return ok({ deleted: true as const });
      });
    },

    async settings(auth: Tenant): Promise<Result<OrganizationSettings, 'not_found'>> {
      const row = await withTenant(db, auth, (trx) => findOrganizationSettings(trx, auth.orgId));
      return row ? ok(row) : notFound('Organisation', { organization_id: auth.orgId });
    },

    async updateSettings(auth: Tenant, fields: { auto_provision_members?: boolean; time_zone?: string }): Promise<Result<OrganizationSettings, 'not_found' | 'invalid_time_zone'>> {
      if (fields.time_zone !== undefined && !isTimeZone(fields.time_zone)) {
        return refuse('invalid_time_zone', `"${fields.time_zone}" is not an IANA time zone (Europe/Lisbon)`, { field: 'time_zone' });
      }
      const row = await withTenant(db, auth, (trx) => updateOrganizationSettings(trx, auth.orgId, fields));
      return row ? ok(row) : notFound('Organisation', { organization_id: auth.orgId });
    },
  };
}

export type MemberService = ReturnType<typeof createMemberService>;
