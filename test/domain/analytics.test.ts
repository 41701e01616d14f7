import { addDays, compareVariants, normalCdf, retentionCutoffs, utcDay } from '../../domain/analytics';

describe('analytics days', () => {
  it('cuts retention by whole UTC days, the same all day long', () => {
    expect(utcDay(Date.parse('2026-11-27T00:00:00Z'))).toBe('2026-11-27');
    expect(utcDay(Date.parse('2026-11-27T23:59:59.999Z'))).toBe('2026-11-27');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(retentionCutoffs('2026-11-27', 90, 730)).toEqual({ rawBefore: '2026-08-29', aggregatesBefore: '2024-11-27' });
  });
});

describe('A/B verdicts (two-proportion z-test)', () => {
  const test = { minimumSampleSize: 100, threshold: 0.95 };

  it('matches the normal distribution', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1.644854)).toBeCloseTo(0.05, 6);
  });

  it('recommends b when it converts better with confidence, a when b converts worse', () => {
    // 40% vs 50% of 500 each: z = 3.16, p = 0.0016.
    const better = compareVariants([{ variant: 'a', sampleSize: 500, conversions: 200 }, { variant: 'b', sampleSize: 500, conversions: 250 }], test);
    expect(better.recommendation).toBe('implement_variant_b');
    expect(better.significance).toBeCloseTo(0.9984, 3);
    const worse = compareVariants([{ variant: 'a', sampleSize: 500, conversions: 250 }, { variant: 'b', sampleSize: 500, conversions: 200 }], test);
    expect(worse.recommendation).toBe('keep_variant_a');
  });

  it('says nothing below the threshold or the minimum sample', () => {
    expect(compareVariants([{ variant: 'a', sampleSize: 500, conversions: 200 }, { variant: 'b', sampleSize: 500, conversions: 210 }], test).recommendation).toBe('no_significant_difference');
    expect(compareVariants([{ variant: 'a', sampleSize: 99, conversions: 10 }, { variant: 'b', sampleSize: 500, conversions: 400 }], test).recommendation).toBe('insufficient_data');
    expect(compareVariants([{ variant: 'a', sampleSize: 300, conversions: 30 }], test)).toEqual({ significance: 0, recommendation: 'insufficient_data' });
    expect(compareVariants([{ variant: 'a', sampleSize: 300, conversions: 0 }, { variant: 'b', sampleSize: 300, conversions: 0 }], test).significance).toBe(0);
  });
});
