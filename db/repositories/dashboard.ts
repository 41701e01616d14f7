import type { Knex } from 'knex';

/** A dashboard's filter: a tour or all, and a half-open range of instants (UTC day boundaries), open-ended where null. */
export interface DashboardRange {
  tourId: string | null;
  startAt: Date | null;
  endAt: Date | null;
}

export interface OverviewRow {
  total_tours_started: number;
  completions: number;
  abandonments: number;
  completion_rate: number;
  average_duration_minutes: number | null;
  user_satisfaction: number | null;
  ratings: number;
}

export interface TourPerformanceRow {
  tour_id: string;
  name: string;
  starts: number;
  completions: number;
  abandonments: number;
  completion_rate: number;
  abandonment_rate: number;
  average_rating: number | null;
  average_duration_minutes: number | null;
}

export interface StepAnalyticsRow {
  tour_id: string;
  step_index: number;
  step_key: string;
  title: string;
  views: number;
  completions: number;
  skips: number;
  time_spent_avg: number | null;
  user_issues: number;
  help_requests: number;
  reached: number;
  dropped_off: number;
  drop_off_rate: number;
}

export interface AbTestRow {
  test_id: string;
  test_name: string;
  tour_id: string;
  status: string;
  minimum_sample_size: number;
  threshold: number;
  variants: { variant: 'a' | 'b'; sample_size: number; conversions: number; conversion_rate: number; average_time: number | null; user_satisfaction: number | null }[];
}

/**
 * The overview, tour performance and step sections from the seed's SQL functions. `scope` runs each in
 * its own tenant transaction (the API's row-level security), so the three run at once on three
 * connections rather than one after another on one.
 */
export async function dashboardSections(
  scope: <T>(fn: (trx: Knex.Transaction) => Promise<T>) => Promise<T>,
  orgId: string,
  r: DashboardRange,
): Promise<{ overview: OverviewRow; tourPerformance: TourPerformanceRow[]; stepAnalytics: StepAnalyticsRow[] }> {
  const args = [orgId, r.tourId, r.startAt, r.endAt];
  const [overview, tourPerformance, stepAnalytics] = await Promise.all([
    scope((trx) => trx.raw('select * from get_tour_overview_metrics(?::uuid, ?::uuid, ?::timestamptz, ?::timestamptz)', args)),
    scope((trx) => trx.raw('select * from get_tour_performance_breakdown(?::uuid, ?::uuid, ?::timestamptz, ?::timestamptz)', args)),
    scope((trx) => trx.raw('select * from get_tour_step_analytics(?::uuid, ?::uuid, ?::timestamptz, ?::timestamptz)', args)),
  ]);
  return { overview: overview.rows[0] as OverviewRow, tourPerformance: tourPerformance.rows, stepAnalytics: stepAnalytics.rows };
}

/** Every A/B test past its draft (of one tour, or all), with its variants' results from get_ab_test_results. */
export async function abTestResults(db: Knex, tourId: string | null): Promise<AbTestRow[]> {
  const result = await db.raw(
    `SELECT t.id AS test_id, t.test_name, t.tour_id, t.status, t.minimum_sample_size, t.statistical_significance AS threshold,
            coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.variant) FILTER (WHERE r.variant IS NOT NULL), '[]'::jsonb) AS variants
       FROM tour_ab_tests t
       LEFT JOIN LATERAL get_ab_test_results(t.id) r ON true
      WHERE t.status <> 'draft' AND (?::uuid IS NULL OR t.tour_id = ?::uuid)
      GROUP BY t.id
      ORDER BY t.created_at, t.id`,
    [tourId, tourId],
  );
  return (result.rows as (Omit<AbTestRow, 'variants'> & { variants: Record<string, unknown>[] })[]).map((row) => ({
    ...row,
    // jsonb carries NUMERIC as JSON numbers and CHAR(1) as a string: the variant letters as they are.
    variants: row.variants.map((v) => ({
      variant: String(v.variant).trim() as 'a' | 'b',
      sample_size: Number(v.sample_size),
      conversions: Number(v.conversions),
      conversion_rate: Number(v.conversion_rate),
      average_time: v.average_time === null ? null : Number(v.average_time),
      user_satisfaction: v.user_satisfaction === null ? null : Number(v.user_satisfaction),
    })),
  }));
}
