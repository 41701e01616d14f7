import type { Db } from '../db/knex';
import { findMemberRole, provisionMember } from '../db/repositories/members';
import { parsePhone } from '../connectors/normalize';
import { withTenant, type Role, type Tenant } from '../db/tenant';
import { assertCanonicalUuids } from '../domain/ids';
import { Lru } from './lru';
import { ok, refuse, type Result } from './result';

/** Who a verified token says the caller is: its `sub` and `org` (canonical), and all its claims. */
export interface Identity {
  orgId: string;
  userId: string;
  /** Every verified claim, for what may one day read more of them than `sub` and `org`. */
  claims: Readonly<Record<string, unknown>>;
}

export interface MembershipDeps {
  /** Non-owner connection: the lookup runs as the caller, who may see their own membership row. */
  db: Db;
  /**
   * How long a found membership is trusted without asking Postgres again (MEMBERSHIP_CACHE_TTL): the
   * staleness bound. A member removed or an admin demoted keeps that access on an API process for at
   * most this long. 0 asks Postgres on every request.
   */
  ttlMs: number;
  maxEntries?: number;
  now?: () => number;
}

export type MembershipResolver = ReturnType<typeof createMembershipResolver>;

/**
 * The caller's role comes from `organization_members`, never from the token: a token only names the
 * user and the organisation. Found memberships are kept for `ttlMs` per API process so the hot path
 * (a progress PUT, which otherwise asks Postgres nothing before the workflow) pays no query for them;
 * non-members are never cached, so a membership created a moment ago counts at once.
 */
export function createMembershipResolver(deps: MembershipDeps) {
  const now = deps.now ?? Date.now;
  const known = new Lru<string, { role: Role; until: number }>(deps.maxEntries ?? 50_000);
  const inFlight = new Map<string, Promise<Role | undefined>>();

  const lookUp = (identity: Identity): Promise<Role | undefined> => {
    const key = `${identity.orgId}:${identity.userId}`;
    let pending = inFlight.get(key);
    if (!pending) {
      const asked = now();
      pending = withTenant(deps.db, { orgId: identity.orgId, userId: identity.userId, role: 'member' }, (trx) => findMemberRole(trx, identity.orgId, identity.userId))
        .then((role) => {
          if (role && deps.ttlMs > 0) known.set(key, { role, until: asked + deps.ttlMs });
          return role;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  };

  /**
   * Creates the member from the token's OpenID Connect claims where it has them (`name`, `email` unless
   * `email_verified` is false, `phone_number` if it parses), as role `member`, never admin. The row-level
   * policy allows exactly this and only in an organisation that opted in; false when it did not.
   */
  const provision = async (identity: Identity): Promise<boolean> => {
    const c = identity.claims;
    const text = (v: unknown, max: number) => (typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, max) : undefined);
    const email = c.email_verified === false ? undefined : text(c.email, 320);
    const name = text(c.name, 200) ?? text([c.given_name, c.family_name].filter((p) => typeof p === 'string').join(' '), 200);
    const phone = parsePhone(text(c.phone_number, 64))?.e164;
    const made = await withTenant(deps.db, { orgId: identity.orgId, userId: identity.userId, role: 'member' }, (trx) =>
      provisionMember(trx, identity.orgId, identity.userId, {
        ...(name ? { display_name: name } : {}),
        ...(email && /^[^\s@]+@[^\s@]+$/.test(email) ? { email } : {}),
        ...(phone ? { phone } : {}),
      }),
    );
    if (made && deps.ttlMs > 0) known.set(`${identity.orgId}:${identity.userId}`, { role: 'member', until: now() + deps.ttlMs });
    return made;
  };

  return {
    /** The caller as a tenant (organisation, user, role from membership), or `not_a_member`. */
    async resolve(identity: Identity): Promise<Result<Tenant, 'not_a_member'>> {
      assertCanonicalUuids('membership', { orgId: identity.orgId, userId: identity.userId });
      const hit = known.get(`${identity.orgId}:${identity.userId}`);
      const role = hit && hit.until > now() ? hit.role : await lookUp(identity);
      if (role) return ok({ orgId: identity.orgId, userId: identity.userId, role });
      // The one place an unknown user is met. An organisation that opted in (auto_provision_members)
      // makes them a plain member from their token's standard claims; any other turns them away.
      if (await provision(identity)) return ok({ orgId: identity.orgId, userId: identity.userId, role: 'member' });
      return refuse('not_a_member', 'You are not a member of this organisation', { organization_id: identity.orgId });
    },
  };
}
