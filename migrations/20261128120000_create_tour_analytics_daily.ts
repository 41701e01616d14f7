import type { Knex } from 'knex';

// Client-sent events, and the daily aggregates the dashboard reads.
// - user_agent: the device an event came from (the request's User-Agent); progress spans devices, so
//   it belongs on the event.
// - progress_id gets an index: the realtime stream reads a progress's transitions by it, and deleting a
//   progress (erasure) cascades to its events, which without one is a scan of the whole table.
// - "timestamp" gets a BRIN index: retention cuts by it, and events arrive in time order, so a BRIN
//   range covers them for almost nothing on insert (a btree would cost every insert).
// - tour_analytics_daily holds per (organisation, tour, UTC day, event type, step) counts and sums, kept
//   up to date by a statement-level trigger in the inserting transaction: one upsert per distinct key of
//   a batch, not per row, and never stale. It names nobody, so it outlives the raw events (two years).
//   Each key is striped over 8 rows by the writing backend (`shard`): batches of one busy tour arriving
//   on different connections update different rows, so they do not queue on one row's lock until the
//   other commits; readers sum the stripes.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE tour_analytics_events ADD COLUMN user_agent TEXT;
    CREATE INDEX idx_tour_analytics_progress ON tour_analytics_events(progress_id) WHERE progress_id IS NOT NULL;
    CREATE INDEX idx_tour_analytics_time_brin ON tour_analytics_events USING brin ("timestamp");

    CREATE TABLE tour_analytics_daily (
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      tour_id UUID NOT NULL REFERENCES tour_definitions(id) ON DELETE CASCADE,
      day DATE NOT NULL,
      event_type event_type_enum NOT NULL,
      -- -1 and '' stand for "no step" so the key has no NULLs (a NULL never conflicts).
      step_index INTEGER NOT NULL,
      step_key VARCHAR(100) NOT NULL,
      shard SMALLINT NOT NULL DEFAULT 0 CHECK (shard >= 0 AND shard < 8),
      event_count BIGINT NOT NULL CHECK (event_count >= 0),
      interaction_ms_sum BIGINT NOT NULL DEFAULT 0,
      interaction_count BIGINT NOT NULL DEFAULT 0,
      load_ms_sum BIGINT NOT NULL DEFAULT 0,
      load_count BIGINT NOT NULL DEFAULT 0,
      PRIMARY KEY (organization_id, tour_id, day, event_type, step_index, step_key, shard)
    );
    CREATE INDEX idx_tour_analytics_daily_day ON tour_analytics_daily(day);

    -- SECURITY DEFINER: the API's role inserts events but may not write aggregates itself. Keys are
    -- upserted in sorted order, so two batches touching the same keys wait for each other, never deadlock.
    CREATE FUNCTION tourhub_roll_up_analytics() RETURNS trigger
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
    BEGIN
      INSERT INTO tour_analytics_daily AS d (
        organization_id, tour_id, day, event_type, step_index, step_key, shard,
        event_count, interaction_ms_sum, interaction_count, load_ms_sum, load_count)
      SELECT organization_id, tour_id, ("timestamp" AT TIME ZONE 'UTC')::date, event_type,
             coalesce(step_index, -1), coalesce(step_key, ''), pg_backend_pid() % 8,
             count(*), coalesce(sum(interaction_time_ms), 0), count(interaction_time_ms),
             coalesce(sum(load_time_ms), 0), count(load_time_ms)
        FROM inserted_events
       GROUP BY 1, 2, 3, 4, 5, 6
       ORDER BY 1, 2, 3, 4, 5, 6
      ON CONFLICT (organization_id, tour_id, day, event_type, step_index, step_key, shard) DO UPDATE SET
        event_count = d.event_count + excluded.event_count,
        interaction_ms_sum = d.interaction_ms_sum + excluded.interaction_ms_sum,
        interaction_count = d.interaction_count + excluded.interaction_count,
        load_ms_sum = d.load_ms_sum + excluded.load_ms_sum,
        load_count = d.load_count + excluded.load_count;
      RETURN NULL;
    END $$;
    REVOKE ALL ON FUNCTION tourhub_roll_up_analytics() FROM PUBLIC;

    -- The transition table holds only the rows actually inserted: an event skipped by
    -- ON CONFLICT DO NOTHING (a retried batch) is not counted again.
    CREATE TRIGGER tour_analytics_roll_up AFTER INSERT ON tour_analytics_events
      REFERENCING NEW TABLE AS inserted_events
      FOR EACH STATEMENT EXECUTE FUNCTION tourhub_roll_up_analytics();

    -- Whatever is already stored (the workflow's transitions) starts the aggregates.
    INSERT INTO tour_analytics_daily (
      organization_id, tour_id, day, event_type, step_index, step_key,
      event_count, interaction_ms_sum, interaction_count, load_ms_sum, load_count)
    SELECT organization_id, tour_id, ("timestamp" AT TIME ZONE 'UTC')::date, event_type,
           coalesce(step_index, -1), coalesce(step_key, ''),
           count(*), coalesce(sum(interaction_time_ms), 0), count(interaction_time_ms),
           coalesce(sum(load_time_ms), 0), count(load_time_ms)
      FROM tour_analytics_events
     GROUP BY 1, 2, 3, 4, 5, 6;

    ALTER TABLE tour_analytics_daily ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_view_daily_analytics ON tour_analytics_daily
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_admin());
    GRANT SELECT ON tour_analytics_daily TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER IF EXISTS tour_analytics_roll_up ON tour_analytics_events;
    DROP FUNCTION IF EXISTS tourhub_roll_up_analytics();
    DROP TABLE IF EXISTS tour_analytics_daily;
    DROP INDEX IF EXISTS idx_tour_analytics_time_brin;
    DROP INDEX IF EXISTS idx_tour_analytics_progress;
    ALTER TABLE tour_analytics_events DROP COLUMN IF EXISTS user_agent;
  `);
}
