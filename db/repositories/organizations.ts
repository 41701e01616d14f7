import type { Knex } from 'knex';
import type { HubPerson, HubProgress } from '../../domain/hub';

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
