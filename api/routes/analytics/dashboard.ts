import { z } from 'zod';
import { endpoint } from '../../endpoint';
import { named } from '../../openapi';
import { canonicalUuid } from '../shared';

/** A calendar day, checked to exist (2026-02-30 is refused, not rolled over to March). */
const day = z
  .string()
  .refine((v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) === v, 'a calendar date as YYYY-MM-DD')
  .meta({ format: 'date' });

export const DashboardQuery = z
  .strictObject({
    tour_id: canonicalUuid().optional().describe('One tour; default: all of the organisation'),
    start_date: day.optional().describe('First day (UTC), inclusive; default: unbounded'),
    end_date: day.optional().describe('Last day (UTC), inclusive; default: unbounded'),
  })
  .refine((q) => !q.start_date || !q.end_date || q.start_date <= q.end_date, { message: 'start_date is after end_date', path: ['end_date'] });

const count = z.number().int().min(0);
const percent = z.number().min(0).max(100);
const nullableNumber = z.number().nullable();

export const DashboardView = named(
  'AnalyticsDashboard',
  z.strictObject({
    range: z.strictObject({ tour_id: canonicalUuid().nullable(), start_date: z.string().nullable(), end_date: z.string().nullable(), time_zone: z.literal('UTC') }),
    overview: z.strictObject({
      total_tours_started: count,
      completions: count,
      abandonments: count,
      completion_rate: percent.describe('Per cent of started tours completed'),
      average_duration_minutes: nullableNumber,
      user_satisfaction: nullableNumber.describe('Average rating 1 to 5; null without ratings'),
      ratings: count,
    }),
    tour_performance: z.array(
      z.strictObject({
        tour_id: canonicalUuid(),
        name: z.string(),
        starts: count,
        completions: count,
        abandonments: count,
        completion_rate: percent,
        abandonment_rate: percent,
        average_rating: nullableNumber,
        average_duration_minutes: nullableNumber,
      }),
    ),
    step_analytics: z
      .array(
        z.strictObject({
          tour_id: canonicalUuid(),
          step_index: count,
          step_key: z.string(),
          title: z.string(),
          views: count,
          completions: count,
          skips: count,
          time_spent_avg: nullableNumber.describe('Seconds, from the events that carried interaction_time_ms'),
          user_issues: count.describe('error_encountered events'),
          help_requests: count,
          reached: count.describe('People who got at least this far (started in the range)'),
          dropped_off: count.describe('People who abandoned the tour at this step'),
          drop_off_rate: percent.describe('dropped_off / reached, per cent'),
        }),
      )
      .describe('Every step of the tours shown, in order: the drop-off funnel'),
    ab_test_results: z.array(
      z.strictObject({
        test_id: canonicalUuid(),
        test_name: z.string(),
        tour_id: canonicalUuid(),
        status: z.enum(['running', 'paused', 'completed', 'archived']),
        variants: z.array(
          z.strictObject({
            variant: z.enum(['a', 'b']),
            sample_size: count,
            conversions: count,
            conversion_rate: percent,
            average_time: nullableNumber.describe('Minutes'),
            user_satisfaction: nullableNumber,
          }),
        ),
        statistical_significance: z.number().min(0).max(1).describe('Confidence that the variants convert differently (two-proportion z-test)'),
        recommendation: z.enum(['insufficient_data', 'no_significant_difference', 'implement_variant_b', 'keep_variant_a']),
      }),
    ),
  }),
);

export const analyticsDashboard = endpoint({
  operationId: 'getAnalyticsDashboard',
  method: 'get',
  path: '/api/tours/analytics/dashboard',
  tag: 'Analytics',
  summary: "The organisation's tour analytics: overview, tours, steps and their drop-off, A/B tests",
  description:
    'Tour counts cover the tours started in the range (UTC days); step counts cover the events of those days; A/B results cover each test whole. From the SQL functions get_tour_overview_metrics, get_tour_performance_breakdown, get_tour_step_analytics and get_ab_test_results.',
  access: 'admin',
  query: DashboardQuery,
  responses: { 200: { description: 'The dashboard', json: DashboardView } },
  errors: [],
}).handle(async ({ query, auth }, { analytics }) => {
  const startAt = query.start_date ? new Date(`${query.start_date}T00:00:00Z`) : null;
  const endAt = query.end_date ? new Date(Date.parse(`${query.end_date}T00:00:00Z`) + 86_400_000) : null;
  const d = await analytics.dashboard(auth, { tourId: query.tour_id?.toLowerCase() ?? null, startAt, endAt });
  return {
    status: 200,
    body: {
      range: { tour_id: query.tour_id?.toLowerCase() ?? null, start_date: query.start_date ?? null, end_date: query.end_date ?? null, time_zone: 'UTC' as const },
      overview: d.overview,
      tour_performance: d.tourPerformance,
      step_analytics: d.stepAnalytics,
      ab_test_results: d.abTests.map((t) => ({
        test_id: t.test_id,
        test_name: t.test_name,
        tour_id: t.tour_id,
        status: t.status as 'running' | 'paused' | 'completed' | 'archived',
        variants: t.variants,
        statistical_significance: t.significance,
        recommendation: t.recommendation,
      })),
    },
  };
});
