import type { Knex } from 'knex';

/** One attempt of a delivery as integration_logs keeps it: what was asked (field names), how it went, never a value. */
export interface IntegrationLogItem {
  id: string;
  integration_id: string;
  delivery_id: string | null;
  event_id: string | null;
  action: string | null;
  attempt: number;
  success: boolean;
  http_status: number | null;
  error_class: string | null;
  error_message: string | null;
  request_summary: Record<string, unknown> | null;
  processing_duration_ms: number | null;
  processed_at: Date;
  /** processed_at to the microsecond, UTC, as text: the keyset needs what a JS Date would drop. */
  position: string;
}

export interface LogFilter {
  integrationId: string;
  success?: boolean;
  limit: number;
  after?: { at: string; id: string };
}

/** One integration's attempts, newest first, keyset-paginated on (processed_at, id). `db` is a tenant transaction (RLS: its admins). */
export async function listIntegrationLogs(db: Knex, f: LogFilter): Promise<IntegrationLogItem[]> {
  const q = db('integration_logs')
    .select(
      'id', 'integration_id', 'delivery_id', 'event_id', 'action', 'attempt', 'success', 'http_status', 'error_class', 'error_message',
      'request_summary', 'processing_duration_ms', 'processed_at',
      db.raw(`to_char(processed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as position`),
    )
    .where({ integration_id: f.integrationId })
    .orderBy([{ column: 'processed_at', order: 'desc' }, { column: 'id', order: 'desc' }])
    .limit(f.limit);
  if (f.success !== undefined) q.where({ success: f.success });
  if (f.after) q.whereRaw('(processed_at, id) < (?::timestamptz, ?::uuid)', [f.after.at, f.after.id]);
  return q;
}
