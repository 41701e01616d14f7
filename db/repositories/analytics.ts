import type { Knex } from 'knex';
import type { AnalyticsEventType } from '../../domain/analytics';

/** One client event as stored; the columns the server fills (who, when, which device) come with it. */
export interface ClientEventRow {
  /** The client's id for the event: its key `c:{userId}:{id}` makes a retried batch insert nothing twice. */
  clientId: string;
  tourId: string;
  progressId: string | null;
  eventType: AnalyticsEventType;
  stepIndex: number | null;
  stepKey: string | null;
  eventData: Record<string, unknown>;
  pageUrl: string | null;
  referrer: string | null;
  sessionId: string | null;
  loadTimeMs: number | null;
  interactionTimeMs: number | null;
}

/** The key a client event is stored under: scoped to its user, so one person's ids never collide with another's. */
export function clientEventKey(userId: string, clientId: string): string {
  return `c:${userId}:${clientId}`;
}

/**
 * Inserts a batch in one statement (arrays unnested server-side: one round trip and one plan however
 * many rows), skipping keys already stored. Returns the keys inserted now, with the time they were
 * recorded; a key missing from the answer was a duplicate. `db` is the caller's tenant transaction:
 * the insert policy holds every row to the caller's organisation and user.
 */
export async function insertClientEvents(
  db: Knex,
  who: { orgId: string; userId: string; userAgent: string | null },
  rows: readonly ClientEventRow[],
): Promise<Map<string, Date>> {
  if (rows.length === 0) return new Map();
  const col = <T>(f: (r: ClientEventRow) => T) => rows.map(f);
  const result = await db.raw(
    `INSERT INTO tour_analytics_events (
       event_key, user_id, organization_id, user_agent, tour_id, progress_id, event_type, step_index, step_key,
       event_data, page_url, referrer, session_id, load_time_ms, interaction_time_ms)
     SELECT k, ?::uuid, ?::uuid, ?::text, t, p, e, si, sk, d, pu, r, s, lt, it
       FROM unnest(?::text[], ?::uuid[], ?::uuid[], ?::event_type_enum[], ?::int[], ?::text[], ?::jsonb[],
                   ?::text[], ?::text[], ?::uuid[], ?::int[], ?::int[])
         AS x(k, t, p, e, si, sk, d, pu, r, s, lt, it)
     ON CONFLICT (event_key) DO NOTHING
     RETURNING event_key, "timestamp"`,
    [
      who.userId,
      who.orgId,
      who.userAgent,
      col((r) => clientEventKey(who.userId, r.clientId)),
      col((r) => r.tourId),
      col((r) => r.progressId),
      col((r) => r.eventType),
      col((r) => r.stepIndex),
      col((r) => r.stepKey),
      col((r) => JSON.stringify(r.eventData)),
      col((r) => r.pageUrl),
      col((r) => r.referrer),
      col((r) => r.sessionId),
      col((r) => r.loadTimeMs),
      col((r) => r.interactionTimeMs),
    ] as unknown as Knex.RawBinding[],
  );
  return new Map((result.rows as { event_key: string; timestamp: Date }[]).map((r) => [r.event_key, r.timestamp]));
}

/** Which of these tours the caller may record events for: row-level security shows a member their organisation's active tours. */
export async function visibleTourIds(db: Knex, tourIds: readonly string[]): Promise<Set<string>> {
  if (tourIds.length === 0) return new Set();
  const rows: { id: string }[] = await db('tour_definitions').select('id').whereIn('id', [...tourIds]);
  return new Set(rows.map((r) => r.id));
}

/** Progress ids of the caller's own, with their tours. */
export async function ownProgressTours(db: Knex, userId: string, progressIds: readonly string[]): Promise<Map<string, string>> {
  if (progressIds.length === 0) return new Map();
  const rows: { id: string; tour_id: string }[] = await db('user_tour_progress')
    .select('id', 'tour_id')
    .where({ user_id: userId })
    .whereIn('id', [...progressIds]);
  return new Map(rows.map((r) => [r.id, r.tour_id]));
}

/** A transition's events as the realtime stream sends them. */
export interface TransitionEvent {
  version: number;
  type: string;
  step_index: number | null;
  step_key: string | null;
  timestamp: Date;
}

/**
 * The events of a progress's transitions after `version` (the workflow and the API write them with the
 * transition's version), oldest first: what a stream reconnecting with Last-Event-ID missed.
 */
export async function transitionEventsAfter(db: Knex, progressId: string, version: number): Promise<TransitionEvent[]> {
  const result = await db.raw(
    `SELECT (event_data->>'version')::int AS version, event_type AS type, step_index, step_key, "timestamp"
       FROM tour_analytics_events
      WHERE progress_id = ? AND (event_data->>'version') IS NOT NULL AND (event_data->>'version')::int > ?
      ORDER BY 1, event_key`,
    [progressId, version],
  );
  return result.rows as TransitionEvent[];
}
