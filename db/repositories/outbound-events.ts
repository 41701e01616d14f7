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

/** Newest first. `db` is a tenant transaction: RLS shows only the caller's organisation, and only to admins. */
export async function listOutboundEvents(db: Knex, limit: number): Promise<OutboundEventRow[]> {
  return db('outbound_events')
    .select('id', 'organization_id', 'event_type', 'subject_id', 'payload', 'created_at')
    .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
    .limit(limit);
}

export interface OutboundEventInput {
  organizationId: string;
  type: string;
  subjectId?: string | null;
  /** Ids and figures only: subscriptions receive it as it is, so never a name, an email or a phone. */
  payload: Record<string, unknown>;
  /** Written once per key, however many workers notice the same thing at once. */
  dedupeKey?: string;
}

/** Writes an event for the organisation's admins (listed at GET /api/notifications, pushed to its subscriptions). Owner connection. */
export async function recordOutboundEvent(db: Knex, e: OutboundEventInput): Promise<boolean> {
  const result = await db.raw(
    `insert into outbound_events (organization_id, event_type, subject_id, payload, dedupe_key)
     values (?, ?, ?, ?::jsonb, ?)
     on conflict (dedupe_key) where dedupe_key is not null do nothing`,
    [e.organizationId, e.type, e.subjectId ?? null, JSON.stringify(e.payload), e.dedupeKey ?? null],
  );
  return (result.rowCount ?? 0) > 0;
}
