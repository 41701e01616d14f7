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
