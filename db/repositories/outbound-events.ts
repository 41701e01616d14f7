import type { Knex } from 'knex';

/** Something the organisation's admins should hear about (an integration degraded, then recovered). */
export interface OutboundEventRow {
  id: string;
  organization_id: string;
  event_type: string;
  subject_id: string | null;
  payload: Record<string, unknown>;
  created_at: Date;
}

/**
 * Newest first. `db` is a tenant transaction: RLS shows only the caller's organisation, and only to
 * admins. Each tour's own events (the outbox rows planning writes for webhook subscribers, keyed
 * `tour-event:…`) are left out: a notification is something for an admin to act on.
 */
export async function listOutboundEvents(db: Knex, limit: number): Promise<OutboundEventRow[]> {
  return db('outbound_events')
    .select('id', 'organization_id', 'event_type', 'subject_id', 'payload', 'created_at')
    .where((q) => q.whereNull('dedupe_key').orWhereNot('dedupe_key', 'like', `${TOUR_EVENT_DEDUPE_PREFIX}%`))
    .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
    .limit(limit);
}

/** The dedupe key prefix of the tour events planning writes (activities/index.ts). */
export const TOUR_EVENT_DEDUPE_PREFIX = 'tour-event:';

export interface NewOutboundEvent {
  organizationId: string;
  eventType: string;
  subjectId?: string | null;
  /** Ids and figures only: subscriptions receive it as it is, so never a name, an email or a phone. */
  payload: Record<string, unknown>;
  /** Events that must reach a subscriber in order share it (a tour run's workflow id). */
  orderingKey?: string;
  /**
   * A writer that may run twice (a retried activity) writes one row per key, however many workers
   * notice the same thing at once (an alert per failed delivery, one onboarding-complete per completion).
   */
  dedupeKey?: string;
}

/**
 * Adds events to the outbox (listed at GET /api/notifications, relayed to the organisation's
 * subscriptions), in the order given (their seq order, which each subscriber's lane keeps). The
 * worker's connection. Rows whose dedupe key is already there are skipped.
 */
export async function insertOutboundEvents(db: Knex, events: readonly NewOutboundEvent[]): Promise<void> {
  for (const e of events) {
    await db('outbound_events')
      .insert({
        organization_id: e.organizationId,
        event_type: e.eventType,
        subject_id: e.subjectId ?? null,
        payload: JSON.stringify(e.payload),
        ordering_key: e.orderingKey ?? null,
        dedupe_key: e.dedupeKey ?? null,
      })
      .onConflict('dedupe_key')
      .ignore();
  }
}
