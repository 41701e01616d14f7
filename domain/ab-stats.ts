/**
 * The statistics of an A/B test's results, pure. The distributions come from stdlib
 * (@stdlib/stats-base-dists-*: docs/libraries.md says why); the formulas are the textbook ones named at
 * each function, and test/domain/ab-stats.test.ts checks them against worked examples from the texts.
 *
 * What the results say and in which order they are trusted, as experiment platforms do:
 * 1. the sample ratio: exposures split as configured? (chi-square goodness of fit; a mismatch means the
 *    assignment or its logging is broken, and no other number can be trusted: no recommendation);
 * 2. the planned sample: each variant has reached the size needed to detect the test's minimum
 *    detectable effect at 80 % power (Fleiss's formula)? Until then, keep running: looking early and
 *    stopping at the first significant p-value inflates false positives;
 * 3. only then the two-proportion z-test at the test's significance level decides.
 */
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import type { AbMetric, Variant } from './ab';

export interface Interval {
  low: number;
  high: number;
}

/** The standard normal quantile. */
const z = (p: number) => normalQuantile(p, 0, 1);
/** The two-sided critical value for a confidence level (0.95 -> 1.95996...). */
const critical = (confidence: number) => z(1 - (1 - confidence) / 2);

/**
 * Wilson's score interval for a proportion x/n (Wilson 1927; Newcombe 1998, method 3): unlike the Wald
 * interval it stays inside [0, 1] and keeps its coverage for small counts and rates near 0 or 1, which
 * is where a new tour's conversion sits. Null without observations.
 */
export function wilsonInterval(x: number, n: number, confidence: number): Interval | null {
  if (n <= 0) return null;
  const k = critical(confidence);
  const p = x / n;
  const k2 = k * k;
  const denominator = 1 + k2 / n;
  const centre = (p + k2 / (2 * n)) / denominator;
  const half = (k / denominator) * Math.sqrt((p * (1 - p)) / n + k2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** The pooled two-proportion z-test of H0: pA = pB, two-sided. Null when either group is empty. */
export function twoProportionZTest(xa: number, na: number, xb: number, nb: number): { z: number; pValue: number } | null {
  if (na <= 0 || nb <= 0) return null;
  const pooled = (xa + xb) / (na + nb);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb));
  // Everyone converted, or nobody did, in both groups: no evidence of a difference.
  if (se === 0) return { z: 0, pValue: 1 };
  const statistic = (xb / nb - xa / na) / se;
  return { z: statistic, pValue: Math.min(1, 2 * (1 - normalCdf(Math.abs(statistic), 0, 1))) };
}

/** pB - pA with its Wald interval (unpooled standard error; Newcombe 1998b, method 1). */
export function differenceInterval(xa: number, na: number, xb: number, nb: number, confidence: number): { estimate: number; interval: Interval } | null {
  if (na <= 0 || nb <= 0) return null;
  const pa = xa / na;
  const pb = xb / nb;
  const half = critical(confidence) * Math.sqrt((pa * (1 - pa)) / na + (pb * (1 - pb)) / nb);
  return { estimate: pb - pa, interval: { low: pb - pa - half, high: pb - pa + half } };
}

/**
 * Relative lift pB/pA - 1 with its interval from the log risk ratio (Katz et al. 1978): the ratio's
 * logarithm is close to normal where the ratio is not. Null while either group has no conversion.
 */
export function liftInterval(xa: number, na: number, xb: number, nb: number, confidence: number): { estimate: number; interval: Interval } | null {
  if (na <= 0 || nb <= 0 || xa <= 0 || xb <= 0) return null;
  const ratio = xb / nb / (xa / na);
  const se = Math.sqrt(1 / xb - 1 / nb + 1 / xa - 1 / na);
  const half = critical(confidence) * se;
  return { estimate: ratio - 1, interval: { low: Math.exp(Math.log(ratio) - half) - 1, high: Math.exp(Math.log(ratio) + half) - 1 } };
}

/**
 * Pearson's chi-square goodness of fit of counts against expected shares (summing to 1). A category
 * expected to be empty that is not is a certain mismatch (p = 0).
 */
export function chiSquareGoodnessOfFit(observed: readonly number[], shares: readonly number[]): { statistic: number; df: number; pValue: number } {
  const total = observed.reduce((s, o) => s + o, 0);
  let statistic = 0;
  let categories = 0;
  for (const [i, o] of observed.entries()) {
    const expected = total * shares[i]!;
    if (expected === 0) {
      if (o > 0) return { statistic: Infinity, df: Math.max(1, shares.filter((s) => s > 0).length - 1), pValue: 0 };
      continue;
    }
    categories++;
    statistic += ((o - expected) * (o - expected)) / expected;
  }
  const df = categories - 1;
  if (df < 1 || total === 0) return { statistic: 0, df: Math.max(df, 0), pValue: 1 };
  return { statistic, df, pValue: 1 - chisquareCdf(statistic, df) };
}

/**
 * Observations needed per group to detect p1 -> p2 with a two-sided test at `alpha` with `power`
 * (Fleiss, Levin & Paik, Statistical Methods for Rates and Proportions, 3rd ed., ch. 4, without continuity
 * correction, as the z-test above has none), for group 2 getting `ratio` times group 1's observations.
 */
export function sampleSizePerGroup(p1: number, p2: number, alpha: number, power: number, ratio = 1): { group1: number; group2: number } | null {
  const delta = Math.abs(p2 - p1);
  if (delta === 0 || ratio <= 0 || p1 < 0 || p1 > 1 || p2 < 0 || p2 > 1) return null;
  const pBar = (p1 + ratio * p2) / (1 + ratio);
  const a = critical(1 - alpha) * Math.sqrt((1 + 1 / ratio) * pBar * (1 - pBar));
  const b = z(power) * Math.sqrt(p1 * (1 - p1) + (p2 * (1 - p2)) / ratio);
  const n1 = ((a + b) * (a + b)) / (delta * delta);
  return { group1: Math.ceil(n1), group2: Math.ceil(ratio * n1) };
}

/** What one variant saw. */
export interface ArmCounts {
  exposures: number;
  starts: number;
  completions: number;
}

export interface ExperimentInput {
  a: ArmCounts;
  b: ArmCounts;
  /** Share of users given variant A (seed 000's traffic_split). */
  trafficSplit: number;
  /** The test's statistical_significance: the confidence level (0.95: alpha 0.05). */
  confidence: number;
  /** Relative change in the conversion rate the test is sized to detect (0.1: a 10 % lift). */
  minimumDetectableEffect: number;
  /** Seed 000's minimum_sample_size: a floor on the exposures per variant before any call. */
  minimumSampleSize: number;
  metric: AbMetric;
}

/** The power the planned sample is sized for. */
export const PLANNED_POWER = 0.8;
/**
 * The sample-ratio-mismatch threshold: strict, because a real mismatch shows in a tiny p-value and a
 * false alarm stops a healthy test (GrowthBook and Optimizely use 0.001 too).
 */
export const SRM_P_VALUE_THRESHOLD = 0.001;

export type Recommendation = 'investigate_sample_ratio_mismatch' | 'keep_running' | 'implement_variant_b' | 'keep_variant_a' | 'no_significant_difference';

export interface VariantResult extends ArmCounts {
  variant: Variant;
  expectedShare: number;
  conversions: number;
  conversionRate: number | null;
  conversionInterval: Interval | null;
}

export interface ExperimentResults {
  metric: AbMetric;
  confidence: number;
  alpha: number;
  variants: [VariantResult, VariantResult];
  difference: { estimate: number; interval: Interval } | null;
  lift: { estimate: number; interval: Interval } | null;
  test: { z: number; pValue: number; significant: boolean } | null;
  srm: { statistic: number; df: number; pValue: number; threshold: number; mismatch: boolean };
  sampleSize: {
    power: number;
    minimumDetectableEffect: number;
    baselineRate: number | null;
    /** Per variant, the larger of the power calculation and the test's minimum; null while the baseline is unknown. */
    required: { a: number; b: number } | null;
    remaining: { a: number; b: number } | null;
    reached: boolean;
  };
  recommendation: Recommendation;
  reason: string;
}

const conversionsOf = (arm: ArmCounts, metric: AbMetric) => (metric === 'start_rate' ? arm.starts : arm.completions);

export function analyzeExperiment(input: ExperimentInput): ExperimentResults {
  const { a, b, metric, confidence } = input;
  const alpha = 1 - confidence;
  const xa = conversionsOf(a, metric);
  const xb = conversionsOf(b, metric);
  const variant = (v: Variant, arm: ArmCounts, x: number, share: number): VariantResult => ({
    variant: v,
    ...arm,
    expectedShare: share,
    conversions: x,
    conversionRate: arm.exposures > 0 ? x / arm.exposures : null,
    conversionInterval: wilsonInterval(x, arm.exposures, confidence),
  });

  const fit = chiSquareGoodnessOfFit([a.exposures, b.exposures], [input.trafficSplit, 1 - input.trafficSplit]);
  const srm = { ...fit, threshold: SRM_P_VALUE_THRESHOLD, mismatch: fit.pValue < SRM_P_VALUE_THRESHOLD };

  const baseline = a.exposures > 0 ? xa / a.exposures : null;
  const ratio = (1 - input.trafficSplit) / input.trafficSplit;
  const target = baseline === null ? null : Math.min(1, baseline * (1 + input.minimumDetectableEffect));
  const planned = baseline === null || target === null || !Number.isFinite(ratio) ? null : sampleSizePerGroup(baseline, target, alpha, PLANNED_POWER, ratio);
  const required = planned
    ? { a: Math.max(planned.group1, input.minimumSampleSize), b: Math.max(planned.group2, input.minimumSampleSize) }
    : null;
  const remaining = required ? { a: Math.max(0, required.a - a.exposures), b: Math.max(0, required.b - b.exposures) } : null;
  const reached = remaining !== null && remaining.a === 0 && remaining.b === 0;

  const tested = twoProportionZTest(xa, a.exposures, xb, b.exposures);
  const test = tested ? { ...tested, significant: tested.pValue < alpha } : null;

  let recommendation: Recommendation;
  let reason: string;
  if (srm.mismatch) {
    recommendation = 'investigate_sample_ratio_mismatch';
    reason = `Exposures split ${a.exposures}:${b.exposures} against a configured ${input.trafficSplit}:${round(1 - input.trafficSplit)} (chi-square p = ${srm.pValue.toPrecision(3)} < ${SRM_P_VALUE_THRESHOLD}): the assignment or its records are broken, so no result can be trusted`;
  } else if (!reached || !test) {
    recommendation = 'keep_running';
    reason = required
      ? `Each variant needs ${required.a} (A) and ${required.b} (B) exposures to detect a ${round(input.minimumDetectableEffect * 100)} % lift at ${PLANNED_POWER * 100} % power; ${remaining!.a} and ${remaining!.b} to go`
      : 'No conversions in variant A yet: the sample needed cannot be sized until there is a baseline rate';
  } else if (test.significant) {
    const better = xb / b.exposures > xa / a.exposures;
    recommendation = better ? 'implement_variant_b' : 'keep_variant_a';
    reason = `Variant B ${better ? 'beats' : 'trails'} A with p = ${test.pValue.toPrecision(3)} < ${round(alpha)}`;
  } else {
    recommendation = 'no_significant_difference';
    reason = `The planned sample is reached and p = ${test.pValue.toPrecision(3)} is not below ${round(alpha)}`;
  }

  return {
    metric,
    confidence,
    alpha: round(alpha),
    variants: [variant('a', a, xa, input.trafficSplit), variant('b', b, xb, round(1 - input.trafficSplit))],
    difference: differenceInterval(xa, a.exposures, xb, b.exposures, confidence),
    lift: liftInterval(xa, a.exposures, xb, b.exposures, confidence),
    test,
    srm,
    sampleSize: { power: PLANNED_POWER, minimumDetectableEffect: input.minimumDetectableEffect, baselineRate: baseline, required, remaining, reached },
    recommendation,
    reason,
  };
}

/** Shares and levels to the precision they are configured in (0.95, not 0.9500000000000001). */
function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
