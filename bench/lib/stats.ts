/**
 * The few statistics the benchmarks print. Percentiles interpolate linearly between the two closest
 * ranks (Hyndman and Fan type 7, what numpy and most spreadsheets use), so p50 of an even-sized sample is
 * the mean of its two middle values and p99 of 200 samples sits between the 198th and 199th smallest.
 */

/** The q-quantile (0 <= q <= 1) of `values`; NaN for an empty sample. Does not modify `values`. */
export function quantile(values: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be between 0 and 1, got ${q}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

/** The p-th percentile (0 <= p <= 100). */
export function percentile(values: readonly number[], p: number): number {
  return quantile(values, p / 100);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

export interface LatencySummary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Summary of a latency sample in the sample's own unit (the benchmarks use milliseconds). */
export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    min: sorted.length ? sorted[0]! : Number.NaN,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    mean: mean(sorted),
  };
}

/** a / b, or NaN when either is missing or b is zero (a ratio of nothing is not 0 or infinity). */
export function ratio(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN;
  return a / b;
}
