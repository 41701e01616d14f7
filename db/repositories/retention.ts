import type { Knex } from 'knex';
import { SERVER_EVENT } from './ab-tests';

/** Days (UTC, oldest first) that still have raw events before `before`: what a retention run has left to roll up. */
export async function daysWithEventsBefore(db: Knex, before: string, limit: number): Promise<string[]> {
  const result = await db.raw(
    `SELECT DISTINCT to_char(("timestamp" AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day
       FROM tour_analytics_events
      WHERE "timestamp" < (?::date)::timestamp AT TIME ZONE 'UTC'
      ORDER BY 1 LIMIT ?`,
    [before, limit],
  );
  return (result.rows as { day: string }[]).map((r) => r.day);
}

/** The people with raw events on `day`, for the caller to compute their pseudonyms (the key never reaches SQL). */
export async function peopleWithEventsOn(db: Knex, day: string): Promise<{ organization_id: string; user_id: string }[]> {
  const result = await db.raw(
    `SELECT DISTINCT organization_id, user_id FROM tour_analytics_events
      WHERE "timestamp" >= (?::date)::timestamp AT TIME ZONE 'UTC' AND "timestamp" < (?::date + 1)::timestamp AT TIME ZONE 'UTC'`,
    [day, day],
  );
  return result.rows;
}

/**
 * Rolls one day's raw events into tour_analytics_user_daily under each person's pseudonym and deletes
 * them, in one transaction: run twice, the second finds nothing. `pseudonyms` must cover every
 * (organisation, user) of the day; an event whose person is missing stops the transaction rather than
 * be deleted uncounted.
 */
export async function rollUpDay(
  db: Knex,
  day: string,
  pseudonyms: { orgId: string; userId: string; key: Buffer }[],
): Promise<{ events: number; rows: number }> {
  return db.transaction(async (trx) => {
    const range = (alias: string) =>
      `${alias}"timestamp" >= (?::date)::timestamp AT TIME ZONE 'UTC' AND ${alias}"timestamp" < (?::date + 1)::timestamp AT TIME ZONE 'UTC'`;
    const rolled = await trx.raw(
      `WITH people AS (SELECT * FROM unnest(?::uuid[], ?::uuid[], ?::bytea[]) AS p(org, usr, user_key)),
       grouped AS (
         SELECT e.organization_id, e.tour_id, ?::date AS day, p.user_key, e.event_type,
                coalesce(e.step_index, -1) AS step_index, coalesce(e.step_key, '') AS step_key,
                count(*) AS event_count, coalesce(sum(e.interaction_time_ms), 0) AS interaction_ms_sum,
                count(e.interaction_time_ms) AS interaction_count
           FROM tour_analytics_events e
           JOIN people p ON p.org = e.organization_id AND p.usr = e.user_id
          WHERE ${range('e.')}
          GROUP BY 1, 2, 3, 4, 5, 6, 7
       ),
       upserted AS (
         INSERT INTO tour_analytics_user_daily AS d (
           organization_id, tour_id, day, user_key, event_type, step_index, step_key, event_count, interaction_ms_sum, interaction_count)
         SELECT * FROM grouped ORDER BY 1, 2, 3, 4, 5, 6, 7
         ON CONFLICT (organization_id, tour_id, day, user_key, event_type, step_index, step_key) DO UPDATE SET
           event_count = d.event_count + excluded.event_count,
           interaction_ms_sum = d.interaction_ms_sum + excluded.interaction_ms_sum,
           interaction_count = d.interaction_count + excluded.interaction_count
         RETURNING 1
       )
       SELECT (SELECT coalesce(sum(event_count), 0) FROM grouped)::bigint AS counted, (SELECT count(*) FROM upserted)::bigint AS rows`,
      [pseudonyms.map((p) => p.orgId), pseudonyms.map((p) => p.userId), pseudonyms.map((p) => p.key), day, day, day] as unknown as Knex.RawBinding[],
    );
    // A/B outcomes: the events below are the only record of which test and variant a run was in.
    await trx.raw(
      `UPDATE tour_ab_assignments a
          SET started_at = LEAST(a.started_at, o.started_at), completed_at = LEAST(a.completed_at, o.completed_at)
         FROM (SELECT organization_id, event_data->>'ab_test_id' AS test_id, user_id,
                      min("timestamp") FILTER (WHERE event_type = 'tour_started') AS started_at,
                      min("timestamp") FILTER (WHERE event_type = 'tour_completed') AS completed_at
                 FROM tour_analytics_events
                WHERE ${range('')} AND event_type IN ('tour_started', 'tour_completed')
                  AND (event_data->>'ab_test_id') IS NOT NULL AND ${SERVER_EVENT}
                GROUP BY 1, 2, 3) o
        WHERE a.organization_id = o.organization_id AND a.ab_test_id::text = o.test_id
          AND a.subject_hash = tourhub_ab_subject(a.ab_test_id, o.user_id)`,
      [day, day],
    );
    const deleted = await trx.raw(`DELETE FROM tour_analytics_events WHERE ${range('')}`, [day, day]);
    const counted = Number(rolled.rows[0].counted);
    const events = deleted.rowCount ?? 0;
    if (counted !== events) throw new Error(`retention of ${day}: ${events} events to delete but ${counted} rolled up; nothing changed`);
    return { events, rows: Number(rolled.rows[0].rows) };
  });
}

/** Deletes aggregates (anonymous and pseudonymous) of days before `before`. */
export async function pruneAggregates(db: Knex, before: string): Promise<{ anonymous: number; pseudonymous: number }> {
  const anonymous = await db('tour_analytics_daily').where('day', '<', before).del();
  const pseudonymous = await db('tour_analytics_user_daily').where('day', '<', before).del();
  return { anonymous, pseudonymous };
}
