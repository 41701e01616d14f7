import type { Knex } from 'knex';
import type { HubPerson, HubProgress } from '../../domain/hub';
import { findMemberContact } from './members';

export interface HubContext {
  timeZone: string;
  /**
   * Who the events are about. `email` is empty when the member has none (or there is no member row):
   * routes that need it are recorded as skipped, not sent.
   */
  person: HubPerson;
}

/** The organisation's zone: due dates and bookings fall in it unless an integration sets its own. */
export async function findOrgTimeZone(db: Knex, orgId: string): Promise<string> {
  const org = await db('organizations').select('time_zone').where({ id: orgId }).first();
  return org?.time_zone ?? 'UTC';
}

/** Who a tour event is about, and the organisation's time zone for due dates. The worker's connection (any organisation). */
export async function loadHubContext(db: Knex, orgId: string, userId: string): Promise<HubContext> {
  const [timeZone, member] = await Promise.all([
    findOrgTimeZone(db, orgId),
    findMemberContact(db, orgId, userId),
  ]);
  // Display names are free text: the first word is the best guess at a first name, the rest the last.
  const [first, ...rest] = String(member?.display_name ?? '').trim().split(/\s+/).filter(Boolean);
  return {
    timeZone,
    person: {
      email: member?.email ?? '',
      externalId: userId,
      ...(first ? { firstName: first } : {}),
      ...(rest.length ? { lastName: rest.join(' ') } : {}),
      ...(member?.phone ? { phone: member.phone } : {}),
    },
  };
}

export interface OrganizationRow {
  id: string;
  slug: string;
  name: string;
  auto_provision_members: boolean;
}

/** By id (canonical UUID) or slug. Owner connection: the CLI's operators see every organisation. */
export async function findOrganization(db: Knex, by: { id: string } | { slug: string }): Promise<OrganizationRow | undefined> {
  return db('organizations').select('id', 'slug', 'name', 'auto_provision_members').where(by).first() as Promise<OrganizationRow | undefined>;
}

/** Inserts the organisation; undefined when its slug (or id) is taken. */
export async function insertOrganization(db: Knex, org: OrganizationRow): Promise<OrganizationRow | undefined> {
  const [row] = (await db('organizations').insert(org).onConflict().ignore().returning(['id', 'slug', 'name', 'auto_provision_members'])) as OrganizationRow[];
  return row;
}

export interface OrganizationSettings {
  id: string;
  slug: string;
  name: string;
  time_zone: string;
  auto_provision_members: boolean;
}

const ORG_COLUMNS = ['id', 'slug', 'name', 'time_zone', 'auto_provision_members'];

export async function findOrganizationSettings(db: Knex, orgId: string): Promise<OrganizationSettings | undefined> {
  return db('organizations').select(ORG_COLUMNS).where({ id: orgId }).first();
}

export async function updateOrganizationSettings(db: Knex, orgId: string, fields: { auto_provision_members?: boolean; time_zone?: string }): Promise<OrganizationSettings | undefined> {
  const [row] = await db('organizations').where({ id: orgId }).update({ ...fields, updated_at: db.fn.now() }).returning(ORG_COLUMNS);
  return row;
}

/** What a tour event's email merge fields need of the stored progress and the organisation. Owner connection. */
export async function loadProgressFacts(db: Knex, progressId: string): Promise<{ progress: HubProgress; subscriptionTier: string } | undefined> {
  // The step the run is on, in the run's own steps: its published version's, less those its targeting
  // left out (step_keys); a run from before versions reads the working copy.
  const row = await db('user_tour_progress as p')
    .join('organizations as o', 'o.id', 'p.organization_id')
    .leftJoin('tour_versions as v', (j) => j.on('v.tour_id', 'p.tour_id').andOn('v.version', 'p.tour_version'))
    .leftJoin('tour_steps as s', (j) => j.on('s.tour_id', 'p.tour_id').andOn('s.step_order', 'p.current_step_index').andOnNull('p.tour_version'))
    .select(
      'p.total_time_seconds',
      'p.current_step_index',
      'p.total_steps',
      'o.subscription_tier',
      db.raw(
        `coalesce((select e.step->>'step_key' from jsonb_array_elements(v.steps) with ordinality as e(step, n)
                    where p.step_keys is null or e.step->>'step_key' = any (p.step_keys)
                    order by e.n offset p.current_step_index limit 1), s.step_key) as step_key`,
      ),
    )
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
