/**
 * Tour analytics as pure functions: the event types clients may send, the UTC days retention cuts by,
 * and the A/B comparison the dashboard shows. No I/O and no clock of their own, so the retention
 * workflow can call them deterministically.
 */

/** Seed 000's event_type_enum: every event a client (or the workflow) may record. */
export const ANALYTICS_EVENT_TYPES = [
  'tour_started',
  'step_viewed',
  'step_completed',
  'step_skipped',
  'tour_completed',
  'tour_abandoned',
  'tooltip_clicked',
  'help_requested',
  'feedback_submitted',
  'error_encountered',
] as const;
export type AnalyticsEventType = (typeof ANALYTICS_EVENT_TYPES)[number];

/** The most events one request may carry (seed 003's batches, Segment's batch API: a bounded batch). */
export const MAX_EVENTS_PER_BATCH = 1000;

const DAY_MS = 86_400_000;

/** The UTC day (YYYY-MM-DD) an instant falls on. */
export function utcDay(epochMs: number): string {
  return new Date(Math.floor(epochMs / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** `day` moved by `days` (negative: earlier), as YYYY-MM-DD. */
export function addDays(day: string, days: number): string {
  return utcDay(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS);
}

/**
 * What a retention run as of `asOf` (a UTC day) removes: raw events of days before `rawBefore`, and
 * aggregates of days before `aggregatesBefore`. Whole days, so a second run on the same day finds
 * nothing more to do.
 */
export function retentionCutoffs(asOf: string, retentionDays: number, aggregateRetentionDays: number): { rawBefore: string; aggregatesBefore: string } {
  return { rawBefore: addDays(asOf, -retentionDays), aggregatesBefore: addDays(asOf, -aggregateRetentionDays) };
}

export interface VariantOutcome {
  variant: 'a' | 'b';
  sampleSize: number;
  conversions: number;
}

export type AbRecommendation = 'insufficient_data' | 'no_significant_difference' | 'implement_variant_b' | 'keep_variant_a';

/**
 * Seed 000's verdict on a test: a two-sided two-proportion z-test of the conversion rates of variants a
 * and b. `significance` is the confidence that the rates differ (1 - p); below the test's threshold, or
 * with fewer than `minimumSampleSize` people in either variant, nothing is recommended.
 */
export function compareVariants(
  outcomes: readonly VariantOutcome[],
  test: { minimumSampleSize: number; threshold: number },
): { significance: number; recommendation: AbRecommendation } {
  const a = outcomes.find((o) => o.variant === 'a') ?? { variant: 'a', sampleSize: 0, conversions: 0 };
  const b = outcomes.find((o) => o.variant === 'b') ?? { variant: 'b', sampleSize: 0, conversions: 0 };
  const significance = twoProportionConfidence(a, b);
  if (a.sampleSize < test.minimumSampleSize || b.sampleSize < test.minimumSampleSize) return { significance, recommendation: 'insufficient_data' };
  if (significance < test.threshold) return { significance, recommendation: 'no_significant_difference' };
  const rate = (o: VariantOutcome) => o.conversions / o.sampleSize;
  return { significance, recommendation: rate(b) > rate(a) ? 'implement_variant_b' : 'keep_variant_a' };
}

function twoProportionConfidence(a: VariantOutcome, b: VariantOutcome): number {
  if (a.sampleSize === 0 || b.sampleSize === 0) return 0;
  const pooled = (a.conversions + b.conversions) / (a.sampleSize + b.sampleSize);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.sampleSize + 1 / b.sampleSize));
  if (se === 0) return 0;
  const z = Math.abs(b.conversions / b.sampleSize - a.conversions / a.sampleSize) / se;
  const pValue = 2 * (1 - normalCdf(z));
  return Math.round((1 - pValue) * 10_000) / 10_000;
}

/** The standard normal CDF, by Abramowitz and Stegun 7.1.26 (absolute error under 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
