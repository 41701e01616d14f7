import { z } from 'zod';
import type { AbTestFields, AbTestRow } from '../../../db/repositories/ab-tests';
import { AB_METRICS, AB_TEST_STATUSES, VARIANT_STEP_FIELDS, VARIANTS, type VariantConfig } from '../../../domain/ab';
import type { ExperimentResults, Interval } from '../../../domain/ab-stats';
import { named } from '../../openapi';
import { canonicalUuid, iso, jsonObject, timestamp } from '../shared';
import { POSITIONS } from '../tours/views';

export const AbTestParams = z.strictObject({ id: canonicalUuid() });

/** The fields a variant may set on a step (VARIANT_STEP_FIELDS), typed as a step's own. */
const StepOverride = z.strictObject({
  title: z.string().trim().min(1).max(200).optional(),
  description: z.string().max(5000).nullable().optional(),
  target_element: z.string().max(200).nullable().optional(),
  content: jsonObject.optional(),
  position: z.enum(POSITIONS).optional(),
  offset: z.strictObject({ x: z.number(), y: z.number() }).optional(),
  backdrop_enabled: z.boolean().optional(),
  wedding_tip: z.string().max(2000).nullable().optional(),
  pro_tip: z.string().max(2000).nullable().optional(),
  estimated_time_seconds: z.number().int().min(0).max(3600).optional(),
} satisfies Record<(typeof VARIANT_STEP_FIELDS)[number], z.ZodType>);

/** Seed 000's variant configuration: per step key, the step fields the variant shows instead. */
export const VariantConfigInput = z
  .strictObject({ steps: z.record(z.string().min(1).max(100), StepOverride).optional() })
  .describe(`Per step key, the fields this variant replaces (${VARIANT_STEP_FIELDS.join(', ')}); {} shows the steps as they are`);

const split = z.number().min(0).max(1).multipleOf(0.01).describe('Share of people given variant A (the control), 0 to 1 in steps of 0.01; B gets the rest');

const designFields = {
  description: z.string().max(2000).nullable().optional(),
  variant_a: VariantConfigInput.optional(),
  variant_b: VariantConfigInput.optional(),
  traffic_split: split.optional(),
  primary_metric: z.enum(AB_METRICS).optional().describe('What counts as a conversion of someone exposed: completing the tour (default) or starting it'),
  minimum_sample_size: z.number().int().min(1).max(10_000_000).optional().describe('Exposures per variant before any recommendation, at the least (default 100)'),
  statistical_significance: z.number().gt(0.5).lt(1).multipleOf(0.01).optional().describe('The confidence level: 0.95 tests at alpha 0.05 (default)'),
  minimum_detectable_effect: z.number().gt(0).max(10).optional().describe('The relative lift the sample is sized to detect at 80 % power: 0.1 is 10 % (default)'),
};

export const CreateAbTestBody = z.strictObject({
  tour_id: canonicalUuid(),
  test_name: z.string().trim().min(1).max(100),
  ...designFields,
});

export const UpdateAbTestBody = z
  .strictObject({ test_name: z.string().trim().min(1).max(100).optional(), ...designFields })
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one field to change' });

export function fieldsOf(body: z.output<typeof UpdateAbTestBody>): AbTestFields {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as AbTestFields & { variant_a?: VariantConfig };
}

export const AbTestView = named(
  'AbTest',
  z.strictObject({
    id: canonicalUuid(),
    tour_id: canonicalUuid(),
    test_name: z.string(),
    description: z.string().nullable(),
    variant_a: jsonObject,
    variant_b: jsonObject,
    traffic_split: z.number(),
    status: z.enum(AB_TEST_STATUSES),
    start_date: timestamp.nullable(),
    end_date: timestamp.nullable(),
    primary_metric: z.enum(AB_METRICS),
    minimum_sample_size: z.number().int(),
    statistical_significance: z.number(),
    minimum_detectable_effect: z.number(),
    created_at: timestamp,
    updated_at: timestamp,
  }),
);

export const AbTestEnvelope = z.strictObject({ ab_test: AbTestView });

export function presentAbTest(t: AbTestRow): z.input<typeof AbTestView> {
  return {
    id: t.id,
    tour_id: t.tour_id,
    test_name: t.test_name,
    description: t.description,
    variant_a: t.variant_a as Record<string, unknown>,
    variant_b: t.variant_b as Record<string, unknown>,
    traffic_split: t.traffic_split,
    status: t.status,
    start_date: iso(t.start_date),
    end_date: iso(t.end_date),
    primary_metric: t.primary_metric,
    minimum_sample_size: t.minimum_sample_size,
    statistical_significance: t.statistical_significance,
    minimum_detectable_effect: t.minimum_detectable_effect,
    created_at: iso(t.created_at),
    updated_at: iso(t.updated_at),
  };
}

const IntervalView = z.strictObject({ low: z.number(), high: z.number() });
const interval = (i: Interval | null) => (i ? { low: i.low, high: i.high } : null);
const perVariant = z.strictObject({ a: z.number().int().min(0), b: z.number().int().min(0) });

export const AbTestResultsView = named(
  'AbTestResults',
  z.strictObject({
    test_id: canonicalUuid(),
    test_name: z.string(),
    status: z.enum(AB_TEST_STATUSES),
    primary_metric: z.enum(AB_METRICS),
    confidence_level: z.number().describe('The test\'s statistical_significance'),
    variants: z.array(
      z.strictObject({
        variant: z.enum(VARIANTS),
        expected_share: z.number().describe('Of exposures, by the traffic split'),
        exposures: z.number().int().min(0).describe('People shown this variant (assignments stored on first exposure)'),
        starts: z.number().int().min(0).describe('Of them, people who started the tour in this test'),
        completions: z.number().int().min(0).describe('Of them, people who completed it'),
        conversions: z.number().int().min(0).describe('Completions or starts, by the primary metric'),
        conversion_rate: z.number().nullable().describe('conversions / exposures; null without exposures'),
        conversion_rate_ci: IntervalView.nullable().describe('Wilson score interval at the confidence level'),
      }),
    ),
    difference: z
      .strictObject({ estimate: z.number(), ci: IntervalView })
      .nullable()
      .describe('Conversion rate of B minus A, with its Wald interval (unpooled)'),
    lift: z
      .strictObject({ estimate: z.number(), ci: IntervalView })
      .nullable()
      .describe('Relative lift of B over A (rate B / rate A - 1), with the log risk-ratio (Katz) interval; null while a variant has no conversion'),
    significance_test: z
      .strictObject({ method: z.literal('two_proportion_z_test'), z: z.number(), p_value: z.number(), alpha: z.number(), significant: z.boolean() })
      .nullable()
      .describe('Pooled two-proportion z-test, two-sided; null while a variant has no exposure'),
    sample_ratio: z
      .strictObject({
        method: z.literal('chi_square_goodness_of_fit'),
        statistic: z.number().nullable(),
        degrees_of_freedom: z.number().int().min(0),
        p_value: z.number(),
        threshold: z.number(),
        mismatch: z.boolean().describe('Exposures do not follow the traffic split: no result can be trusted, and there is no recommendation'),
      })
      .describe('Sample-ratio-mismatch check of exposures against the configured split'),
    sample_size: z.strictObject({
      power: z.number(),
      minimum_detectable_effect: z.number(),
      baseline_rate: z.number().nullable().describe("Variant A's conversion rate, which the sample is sized from"),
      required_per_variant: perVariant.nullable().describe('Exposures each variant needs (at least minimum_sample_size); null until A has a conversion'),
      remaining_per_variant: perVariant.nullable(),
      reached: z.boolean(),
    }),
    recommendation: z
      .enum(['investigate_sample_ratio_mismatch', 'keep_running', 'implement_variant_b', 'keep_variant_a', 'no_significant_difference'])
      .describe('keep_running until the planned sample is reached, whatever the p-value says before'),
    reason: z.string(),
  }),
);

export function presentResults(test: AbTestRow, r: ExperimentResults): z.input<typeof AbTestResultsView> {
  return {
    test_id: test.id,
    test_name: test.test_name,
    status: test.status,
    primary_metric: r.metric,
    confidence_level: r.confidence,
    variants: r.variants.map((v) => ({
      variant: v.variant,
      expected_share: v.expectedShare,
      exposures: v.exposures,
      starts: v.starts,
      completions: v.completions,
      conversions: v.conversions,
      conversion_rate: v.conversionRate,
      conversion_rate_ci: interval(v.conversionInterval),
    })),
    difference: r.difference ? { estimate: r.difference.estimate, ci: interval(r.difference.interval)! } : null,
    lift: r.lift ? { estimate: r.lift.estimate, ci: interval(r.lift.interval)! } : null,
    significance_test: r.test ? { method: 'two_proportion_z_test', z: r.test.z, p_value: r.test.pValue, alpha: r.alpha, significant: r.test.significant } : null,
    sample_ratio: {
      method: 'chi_square_goodness_of_fit',
      statistic: Number.isFinite(r.srm.statistic) ? r.srm.statistic : null,
      degrees_of_freedom: r.srm.df,
      p_value: r.srm.pValue,
      threshold: r.srm.threshold,
      mismatch: r.srm.mismatch,
    },
    sample_size: {
      power: r.sampleSize.power,
      minimum_detectable_effect: r.sampleSize.minimumDetectableEffect,
      baseline_rate: r.sampleSize.baselineRate,
      required_per_variant: r.sampleSize.required,
      remaining_per_variant: r.sampleSize.remaining,
      reached: r.sampleSize.reached,
    },
    recommendation: r.recommendation,
    reason: r.reason,
  };
}
