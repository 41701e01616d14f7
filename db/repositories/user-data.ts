import type { Knex } from 'knex';
import { PROGRESS_COLUMNS, type ProgressRow } from './progress';

/** The prefix of every workflow, event and idempotency id made for one person's tours (workflows/tour-lifecycle/messages.ts). */
export function personWorkflowPrefix(orgId: string, userId: string): string {
  return `tour:${orgId}:${userId}:`;
}

/**
 * Everything stored about one person's tours in the caller's organisation, read under the admin's
 * row-level security: their membership, progress (with their feedback), raw events, pseudonymous
 * aggregates (found by their key), A/B assignments, and the deliveries made for them.
 */
export async function readPersonData(db: Knex, orgId: string, userId: string, userKey: Buffer) {
  const prefix = personWorkflowPrefix(orgId, userId);
  // One after another: they share the caller's transaction, which is one connection.
  const member = await db('organization_members')
    .select('user_id', 'role', 'email', 'display_name', 'phone', 'wedding_date', 'time_zone', 'audience', 'attributes', 'provisioned_from_token', 'created_at', 'updated_at')
    .where({ user_id: userId })
    .first();
  const progress = (await db('user_tour_progress').select(PROGRESS_COLUMNS).where({ user_id: userId }).orderBy('created_at')) as ProgressRow[];
  const events = await db('tour_analytics_events')
    .select('id', 'tour_id', 'progress_id', 'event_type', 'step_index', 'step_key', 'event_data', 'timestamp', 'page_url', 'referrer', 'session_id', 'load_time_ms', 'interaction_time_ms', 'user_agent')
    .where({ user_id: userId })
    .orderBy([{ column: 'timestamp' }, { column: 'id' }]);
  const aggregates = await db('tour_analytics_user_daily')
    .select('tour_id', 'day', 'event_type', 'step_index', 'step_key', 'event_count', 'interaction_ms_sum', 'interaction_count')
    .where({ user_key: userKey })
    .orderBy([{ column: 'day' }, { column: 'tour_id' }]);
  // Stored under a hash of test and user (migrations/20261201130000_pseudonymise_ab_assignments.ts).
  const assignments = await db('tour_ab_assignments as a')
    .join('tour_ab_tests as t', 't.id', 'a.ab_test_id')
    .select('a.ab_test_id', 't.test_name', 'a.tour_id', 'a.variant', 'a.assigned_at', 'a.started_at', 'a.completed_at')
    .whereRaw('a.subject_hash = tourhub_ab_subject(a.ab_test_id, ?::uuid)', [userId])
    .orderBy('a.assigned_at');
  const deliveries = await db('integration_deliveries as d')
    .join('organization_integrations as i', 'i.id', 'd.integration_id')
    .select('d.id', 'd.integration_id', 'i.provider', 'd.event_type', 'd.action', 'd.status', 'd.attempts', 'd.payload', 'd.provider_reference', 'd.created_at', 'd.delivered_at')
    .where('d.workflow_id', 'like', `${prefix}%`)
    .orderBy([{ column: 'd.created_at' }, { column: 'd.id' }]);
  // Two-way sync's copies of their record: keyed by their email, or by an event booked for their tours.
  const keys = [
    ...(member?.email ? [String(member.email).toLowerCase()] : []),
    ...deliveries.filter((d) => d.action === 'calendar.createEvent' && d.provider_reference).map((d) => String(d.provider_reference)),
  ];
  const syncRecords = await db('sync_records as r')
    .join('organization_integrations as i', 'i.id', 'r.integration_id')
    .select('r.integration_id', 'i.provider', 'r.record_key', 'r.remote_id', 'r.base', 'r.local', 'r.synced_at')
    .whereIn('r.record_key', keys)
    .orderBy([{ column: 'r.synced_at' }, { column: 'r.record_key' }]);
  const syncConflicts = await db('sync_conflicts as c')
    .join('organization_integrations as i', 'i.id', 'c.integration_id')
    .select('c.id', 'c.integration_id', 'i.provider', 'c.record_key', 'c.field', 'c.ours_value', 'c.theirs_value', 'c.status', 'c.resolution', 'c.resolved_value', 'c.detected_at', 'c.resolved_at')
    .where((q) => void q.where('c.user_id', userId).orWhereIn('c.record_key', keys))
    .orderBy([{ column: 'c.detected_at' }, { column: 'c.id' }]);
  return { member, progress, events, aggregates, assignments, deliveries, syncRecords, syncConflicts };
}

export type PersonData = Awaited<ReturnType<typeof readPersonData>>;

/** What an erasure must stop before it deletes: the tours the person has progress on, and the deliveries made for them. */
export async function personFootprint(db: Knex, orgId: string, userId: string): Promise<{ exists: boolean; tourIds: string[]; deliveryIds: string[]; subscriptionIds: string[] }> {
  const member = await db('organization_members').select('id').where({ user_id: userId }).first();
  const tours: string[] = await db('user_tour_progress').where({ user_id: userId }).pluck('tour_id');
  const events = await db('tour_analytics_events').select('id').where({ user_id: userId }).first();
  const deliveries: string[] = await db('integration_deliveries').where('workflow_id', 'like', `${personWorkflowPrefix(orgId, userId)}%`).pluck('id');
  // An attempt that was in flight during an erasure may log under the person's ids afterwards: asking
  // again finds it and strips it.
  const logs = await db('integration_logs').select('id').where('event_id', 'like', `${personWorkflowPrefix(orgId, userId)}%`).first();
  // Each subscription may have a webhook lane per tour run, named after the run (workflows/webhook-messages.ts).
  const subscriptions: string[] = await db('webhook_subscriptions').pluck('id');
  return { exists: Boolean(member || events || logs || tours.length > 0 || deliveries.length > 0), tourIds: tours, deliveryIds: deliveries, subscriptionIds: subscriptions };
}

/**
 * Stops delivery of everything not yet sent for the person: the hub's calls for their tours
 * (migrations/20261128120400_create_user_data_erasure.ts) and two-way sync's calls about them
 * (migrations/20261128140600_erase_person_sync.ts).
 */
export async function cancelPersonDeliveries(db: Knex, userId: string): Promise<number> {
  const result = await db.raw('select tourhub_cancel_user_deliveries(?::uuid) + tourhub_cancel_user_sync_deliveries(?::uuid) as n', [userId, userId]);
  return Number(result.rows[0].n);
}

export interface ErasureCounts {
  deliveries_cancelled: number;
  deliveries_anonymised: number;
  events: number;
  pseudonymised_aggregates: number;
  ab_assignments: number;
  progress: number;
  membership: number;
  outbound_webhook_events: number;
  inbound_webhook_events: number;
  sync_records: number;
  sync_conflicts: number;
}

/** Deletes the person's tour data in one transaction (the same migration's function); returns what it removed. */
export async function erasePersonData(db: Knex, orgId: string, userId: string, userKey: Buffer): Promise<ErasureCounts> {
  // First, while their deliveries can still be found by workflow id: a suppressed delivery's reason
  // quotes the event it repeats (migrations/20261201140000_erase_suppression_reasons.ts).
  await db.raw('select tourhub_strip_user_delivery_reasons(?::uuid)', [userId]);
  // Then two-way sync's copies: it finds them by the email on the membership and the events made for
  // the person's tours, which the tour erasure below deletes and strips.
  const sync = (await db.raw('select tourhub_erase_user_sync(?::uuid) as counts', [userId])).rows[0].counts as {
    sync_records: number;
    sync_conflicts: number;
    sync_deliveries_cancelled: number;
    sync_deliveries_anonymised: number;
  };
  const result = await db.raw('select tourhub_erase_user_tour_data(?::uuid, ?::bytea) as counts', [userId, userKey]);
  // Webhook copies of their tour events (migrations/20261201120300_erase_person_webhooks.ts).
  const webhooks = await db.raw('select tourhub_erase_user_webhooks(?::uuid) as counts', [userId]);
  // The API's rate-limit counters are keyed `{policy}:{org}:{user}` (api/rate-limits.ts): they name the person too.
  await db('api_rate_limits').whereIn('key', ['progress', 'start'].map((policy) => `${policy}:${orgId}:${userId}`)).delete();
  const tour = result.rows[0].counts as ErasureCounts;
  return {
    ...tour,
    ...webhooks.rows[0].counts,
    deliveries_cancelled: tour.deliveries_cancelled + sync.sync_deliveries_cancelled,
    deliveries_anonymised: tour.deliveries_anonymised + sync.sync_deliveries_anonymised,
    sync_records: sync.sync_records,
    sync_conflicts: sync.sync_conflicts,
  };
}
