import type { Knex } from 'knex';
import type { HubPerson, HubProgress } from '../../domain/hub';
import type { Role } from '../tenant';

export interface HubContext {
  timeZone: string;
  /** Null when the member has no email: no provider can match a contact without one. */
  person: HubPerson | null;
}

/** The organisation's zone: due dates and bookings fall in it unless an integration sets its own. */
export async function findOrgTimeZone(db: Knex, orgId: string): Promise<string> {
  const org = await db('organizations').select('time_zone').where({ id: orgId }).first();
  return org?.time_zone ?? 'UTC';
}

/** Who a tour event is about, and the organisation's time zone for due dates. Owner connection. */
export async function loadHubContext(db: Knex, orgId: string, userId: string): Promise<HubContext> {
  const [timeZone, member] = await Promise.all([
    findOrgTimeZone(db, orgId),
    db('organization_members').select('email', 'display_name', 'phone').where({ organization_id: orgId, user_id: userId }).first(),
  ]);
  if (!member?.email) return { timeZone, person: null };
  // Display names are free text: the first word is the best guess at a first name, the rest the last.
  const [first, ...rest] = String(member.display_name ?? '').trim().split(/\s+/).filter(Boolean);
  return {
    timeZone,
    person: {
      email: member.email,
      externalId: userId,
      ...(first ? { firstName: first } : {}),
      ...(rest.length ? { lastName: rest.join(' ') } : {}),
      ...(member.phone ? { phone: member.phone } : {}),
    },
  };
}

/**
 * The caller's role in the organisation, or undefined for a non-member. Under RLS the caller sees only
 * their own membership row (members_see_themselves), which is all this needs.
 */
export async function findMemberRole(db: Knex, orgId: string, userId: string): Promise<Role | undefined> {
  const row = (await db('organization_members').select('role').where({ organization_id: orgId, user_id: userId }).first()) as { role: Role } | undefined;
  return row?.role;
}

export interface OrganizationRow {
  id: string;
  slug: string;
  name: string;
}

/** By id (canonical UUID) or slug. Owner connection: the CLI's operators see every organisation. */
export async function findOrganization(db: Knex, by: { id: string } | { slug: string }): Promise<OrganizationRow | undefined> {
  return db('organizations').select('id', 'slug', 'name').where(by).first() as Promise<OrganizationRow | undefined>;
}

/** Inserts the organisation; undefined when its slug (or id) is taken. */
export async function insertOrganization(db: Knex, org: OrganizationRow): Promise<OrganizationRow | undefined> {
  const [row] = (await db('organizations').insert(org).onConflict().ignore().returning(['id', 'slug', 'name'])) as OrganizationRow[];
  return row;
}

export interface MemberRow {
  user_id: string;
  role: Role;
  email: string | null;
}

export async function findMember(db: Knex, orgId: string, userId: string): Promise<MemberRow | undefined> {
  return db('organization_members').select('user_id', 'role', 'email').where({ organization_id: orgId, user_id: userId }).first() as Promise<MemberRow | undefined>;
}

/** Adds the member, or changes the role of an existing one. */
export async function putMember(db: Knex, orgId: string, member: { userId: string; role: Role; email?: string }): Promise<void> {
  await db('organization_members')
    .insert({ organization_id: orgId, user_id: member.userId, role: member.role, ...(member.email ? { email: member.email } : {}) })
    .onConflict(['organization_id', 'user_id'])
    .merge(['role']);
}

/** What a tour event's email merge fields need of the stored progress and the organisation. Owner connection. */
export async function loadProgressFacts(db: Knex, progressId: string): Promise<{ progress: HubProgress; subscriptionTier: string } | undefined> {
  const row = await db('user_tour_progress as p')
    .join('organizations as o', 'o.id', 'p.organization_id')
    .leftJoin('tour_steps as s', (j) => j.on('s.tour_id', 'p.tour_id').andOn('s.step_order', 'p.current_step_index'))
    .select('p.total_time_seconds', 'p.current_step_index', 'p.total_steps', 's.step_key', 'o.subscription_tier')
    .where('p.id', progressId)
    .first();
  if (!row) return undefined;
  return {
    progress: {
      totalTimeSeconds: row.total_time_seconds,
      stepIndex: row.current_step_index,
      totalSteps: row.total_steps,
      ...(row.step_key ? { stepKey: row.step_key } : {}),
    },
    subscriptionTier: row.subscription_tier,
  };
}
