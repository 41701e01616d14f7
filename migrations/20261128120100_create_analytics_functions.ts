import type { Knex } from 'knex';

// Seed 000's four dashboard functions, by its names, with typed parameters instead of its SQL text
// filter (which would be an injection point). They run as the caller (SECURITY INVOKER), so row-level
// security keeps an admin to their own organisation even if org_id said otherwise.
//
// - Tour counts come from user_tour_progress (one row per person and tour), filtered by started_at.
// - Step counts come from tour_analytics_daily (the trigger-kept aggregates), filtered by UTC day, joined
//   to the steps by (tour, step_key); the drop-off funnel comes from the progress rows: a person reached
//   every step up to the furthest they got (completed and skipped steps are kept sorted, so the furthest
//   is the last of either, or the current step), and dropped off at it if they abandoned the tour there.
// - A/B results come from tour_ab_assignments (the variant each person keeps) and their progress on the
//   test's tour. Its own function, so the experiments work can refine it without touching the rest.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX idx_tour_progress_org_started ON user_tour_progress(organization_id, started_at);

    -- The tours started in a range, of one tour or all: what every progress-based section counts. A plain
    -- SQL set-returning function, so the planner inlines it into each caller's query.
    CREATE FUNCTION tourhub_started_progress(org_id UUID, tour_filter UUID, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ)
    RETURNS SETOF user_tour_progress LANGUAGE sql STABLE AS $$
      SELECT * FROM user_tour_progress p
       WHERE p.organization_id = org_id
         AND p.started_at IS NOT NULL
         AND (start_at IS NULL OR p.started_at >= start_at)
         AND (end_at IS NULL OR p.started_at < end_at)
         AND (tour_filter IS NULL OR p.tour_id = tour_filter)
    $$;

    CREATE FUNCTION get_tour_overview_metrics(org_id UUID, tour_filter UUID, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ)
    RETURNS TABLE (
      total_tours_started BIGINT, completions BIGINT, abandonments BIGINT, completion_rate NUMERIC,
      average_duration_minutes NUMERIC, user_satisfaction NUMERIC, ratings BIGINT
    ) LANGUAGE sql STABLE AS $$
      SELECT count(*),
             count(*) FILTER (WHERE p.status = 'completed'),
             count(*) FILTER (WHERE p.status = 'abandoned'),
             CASE WHEN count(*) > 0 THEN round(count(*) FILTER (WHERE p.status = 'completed') * 100.0 / count(*), 2) ELSE 0 END,
             round(avg(p.total_time_seconds / 60.0), 1),
             round(avg(p.user_rating), 1),
             count(p.user_rating)
        FROM tourhub_started_progress(org_id, tour_filter, start_at, end_at) p
    $$;

    CREATE FUNCTION get_tour_performance_breakdown(org_id UUID, tour_filter UUID, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ)
    RETURNS TABLE (
      tour_id UUID, name VARCHAR, starts BIGINT, completions BIGINT, abandonments BIGINT,
      completion_rate NUMERIC, abandonment_rate NUMERIC, average_rating NUMERIC, average_duration_minutes NUMERIC
    ) LANGUAGE sql STABLE AS $$
      WITH stats AS (
        SELECT p.tour_id,
               count(*) AS starts,
               count(*) FILTER (WHERE p.status = 'completed') AS completions,
               count(*) FILTER (WHERE p.status = 'abandoned') AS abandonments,
               avg(p.user_rating) AS rating,
               avg(p.total_time_seconds / 60.0) AS minutes
          FROM tourhub_started_progress(org_id, tour_filter, start_at, end_at) p
         GROUP BY p.tour_id
      )
      SELECT t.id, t.name,
             coalesce(s.starts, 0), coalesce(s.completions, 0), coalesce(s.abandonments, 0),
             CASE WHEN s.starts > 0 THEN round(s.completions * 100.0 / s.starts, 2) ELSE 0 END,
             CASE WHEN s.starts > 0 THEN round(s.abandonments * 100.0 / s.starts, 2) ELSE 0 END,
             round(s.rating, 1), round(s.minutes, 1)
        FROM tour_definitions t
        LEFT JOIN stats s ON s.tour_id = t.id
       WHERE t.organization_id = org_id
         AND (t.is_active OR s.starts > 0)
         AND (tour_filter IS NULL OR t.id = tour_filter)
       ORDER BY coalesce(s.starts, 0) DESC, t.name, t.id
    $$;

    CREATE FUNCTION get_tour_step_analytics(org_id UUID, tour_filter UUID, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ)
    RETURNS TABLE (
      tour_id UUID, step_index INTEGER, step_key VARCHAR, title VARCHAR,
      views BIGINT, completions BIGINT, skips BIGINT, time_spent_avg NUMERIC, user_issues BIGINT, help_requests BIGINT,
      reached BIGINT, dropped_off BIGINT, drop_off_rate NUMERIC
    ) LANGUAGE sql STABLE AS $$
      WITH steps AS (
        SELECT s.tour_id, s.step_key, s.title, s.step_order,
               (row_number() OVER (PARTITION BY s.tour_id ORDER BY s.step_order) - 1)::int AS idx
          FROM tour_steps s
          JOIN tour_definitions t ON t.id = s.tour_id
         WHERE t.organization_id = org_id
           AND (tour_filter IS NULL OR t.id = tour_filter)
           AND (t.is_active OR tour_filter IS NOT NULL)
      ),
      counts AS (
        SELECT d.tour_id, d.step_key,
               sum(d.event_count) FILTER (WHERE d.event_type = 'step_viewed') AS views,
               sum(d.event_count) FILTER (WHERE d.event_type = 'step_completed') AS completions,
               sum(d.event_count) FILTER (WHERE d.event_type = 'step_skipped') AS skips,
               sum(d.event_count) FILTER (WHERE d.event_type = 'error_encountered') AS issues,
               sum(d.event_count) FILTER (WHERE d.event_type = 'help_requested') AS help,
               sum(d.interaction_ms_sum) AS ms, sum(d.interaction_count) AS timed
          FROM tour_analytics_daily d
         WHERE d.organization_id = org_id
           AND (tour_filter IS NULL OR d.tour_id = tour_filter)
           AND (start_at IS NULL OR d.day >= (start_at AT TIME ZONE 'UTC')::date)
           AND (end_at IS NULL OR d.day < (end_at AT TIME ZONE 'UTC')::date)
         GROUP BY d.tour_id, d.step_key
      ),
      furthest AS (
        SELECT p.tour_id,
               CASE WHEN p.status = 'completed' THEN p.total_steps - 1
                    ELSE greatest(p.current_step_index,
                                  coalesce(p.completed_steps[cardinality(p.completed_steps)], -1),
                                  coalesce(p.skipped_steps[cardinality(p.skipped_steps)], -1)) END AS f,
               p.status = 'abandoned' AS abandoned
          FROM tourhub_started_progress(org_id, tour_filter, start_at, end_at) p
      ),
      reach AS (
        SELECT f.tour_id, f.f, count(*) AS people, count(*) FILTER (WHERE f.abandoned) AS left_here
          FROM furthest f GROUP BY f.tour_id, f.f
      ),
      funnel AS (
        SELECT s.tour_id, s.idx,
               (SELECT coalesce(sum(r.people), 0) FROM reach r WHERE r.tour_id = s.tour_id AND r.f >= s.idx) AS reached,
               (SELECT coalesce(sum(r.left_here), 0) FROM reach r WHERE r.tour_id = s.tour_id AND r.f = s.idx) AS dropped
          FROM steps s
      )
      SELECT s.tour_id, s.idx, s.step_key, s.title,
             coalesce(c.views, 0)::bigint, coalesce(c.completions, 0)::bigint, coalesce(c.skips, 0)::bigint,
             CASE WHEN c.timed > 0 THEN round(c.ms / 1000.0 / c.timed, 1) END,
             coalesce(c.issues, 0)::bigint, coalesce(c.help, 0)::bigint,
             fu.reached::bigint, fu.dropped::bigint,
             CASE WHEN fu.reached > 0 THEN round(fu.dropped * 100.0 / fu.reached, 2) ELSE 0 END
        FROM steps s
        LEFT JOIN counts c ON c.tour_id = s.tour_id AND c.step_key = s.step_key
        JOIN funnel fu ON fu.tour_id = s.tour_id AND fu.idx = s.idx
       ORDER BY s.tour_id, s.idx
    $$;

    -- A person counts for a variant once they started the test's tour; a conversion is a completed tour.
    CREATE FUNCTION get_ab_test_results(test_id UUID)
    RETURNS TABLE (
      variant CHAR(1), sample_size BIGINT, conversions BIGINT, conversion_rate NUMERIC,
      average_time NUMERIC, user_satisfaction NUMERIC
    ) LANGUAGE sql STABLE AS $$
      SELECT a.variant,
             count(*),
             count(*) FILTER (WHERE p.status = 'completed'),
             round(count(*) FILTER (WHERE p.status = 'completed') * 100.0 / count(*), 2),
             round(avg(p.total_time_seconds / 60.0), 1),
             round(avg(p.user_rating), 1)
        FROM tour_ab_tests t
        JOIN tour_ab_assignments a ON a.ab_test_id = t.id
        JOIN user_tour_progress p
          ON p.organization_id = a.organization_id AND p.user_id = a.user_id AND p.tour_id = t.tour_id
       WHERE t.id = test_id AND p.started_at IS NOT NULL
       GROUP BY a.variant
       ORDER BY a.variant
    $$;

    GRANT EXECUTE ON FUNCTION tourhub_started_progress(UUID, UUID, TIMESTAMPTZ, TIMESTAMPTZ), get_tour_overview_metrics(UUID, UUID, TIMESTAMPTZ, TIMESTAMPTZ),
      get_tour_performance_breakdown(UUID, UUID, TIMESTAMPTZ, TIMESTAMPTZ),
      get_tour_step_analytics(UUID, UUID, TIMESTAMPTZ, TIMESTAMPTZ),
      get_ab_test_results(UUID) TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP FUNCTION IF EXISTS get_ab_test_results(UUID);
    DROP FUNCTION IF EXISTS get_tour_step_analytics(UUID, UUID, TIMESTAMPTZ, TIMESTAMPTZ);
    DROP FUNCTION IF EXISTS get_tour_performance_breakdown(UUID, UUID, TIMESTAMPTZ, TIMESTAMPTZ);
    DROP FUNCTION IF EXISTS get_tour_overview_metrics(UUID, UUID, TIMESTAMPTZ, TIMESTAMPTZ);
    DROP FUNCTION IF EXISTS tourhub_started_progress(UUID, UUID, TIMESTAMPTZ, TIMESTAMPTZ);
    DROP INDEX IF EXISTS idx_tour_progress_org_started;
  `);
}
