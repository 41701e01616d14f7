import {
  analyzeExperiment,
  chiSquareGoodnessOfFit,
  differenceInterval,
  liftInterval,
  sampleSizePerGroup,
  twoProportionZTest,
  wilsonInterval,
  type ExperimentInput,
} from '../../domain/ab-stats';

/** Equal to the number the text prints, at the precision it prints it with. */
function printedAs(actual: number, printed: number, decimals: number): void {
  expect(Math.abs(actual - printed)).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-12);
}

describe('the statistics of an A/B test, against worked examples from statistics texts', () => {
  // Newcombe RG (1998). Two-sided confidence intervals for the single proportion: comparison of seven
  // methods. Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score, no continuity correction).
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('Wilson interval of %i/%i is %f to %f (Newcombe 1998, Table I)', (x, n, low, high) => {
    const ci = wilsonInterval(x, n, 0.95)!;
    printedAs(ci.low, low, 4);
    printedAs(ci.high, high, 4);
  });

  // Newcombe RG (1998). Interval estimation for the difference between independent proportions:
  // comparison of eleven methods. Statistics in Medicine 17:873-890, example (a): 56/70 - 48/80, method 1
  // (Wald, no continuity correction): 0.0575 to 0.3425.
  it('difference interval of 56/70 - 48/80 is 0.0575 to 0.3425 (Newcombe 1998b, example a, method 1)', () => {
    const d = differenceInterval(48, 80, 56, 70, 0.95)!;
    printedAs(d.estimate, 0.2, 4);
    printedAs(d.interval.low, 0.0575, 4);
    printedAs(d.interval.high, 0.3425, 4);
  });

  // Diez, Cetinkaya-Rundel & Barr, OpenIntro Statistics, 4th ed., section 6.2.3: the mammogram study,
  // 500 of 44,925 (mammogram) against 505 of 44,910 (control) breast cancer deaths. The text works it with
  // rounded intermediates: pooled proportion 0.0112, SE 0.00070, Z = -0.17, p-value 0.8650. The exact
  // statistic is -0.164, within the text's rounding of its difference (-0.00012 for -0.000115).
  it('two-proportion z-test of the mammogram study (OpenIntro Statistics, 6.2.3)', () => {
    const t = twoProportionZTest(505, 44_910, 500, 44_925)!;
    printedAs(t.z, -0.17, 1);
    expect(Math.abs(t.pValue - 0.865)).toBeLessThan(0.01);
    expect(t.pValue).toBeGreaterThan(0.05);
  });

  // Agresti A, An Introduction to Categorical Data Analysis, 2nd ed. (2007), section 2.2: the Physicians'
  // Health Study, myocardial infarction in 189 of 11,034 on placebo and 104 of 11,037 on aspirin: the
  // difference 0.0077 has the 95 % interval (0.005, 0.011), and the test of independence is far past any
  // significance level.
  it('difference and z-test of the Physicians\' Health Study (Agresti 2007, section 2.2)', () => {
    const d = differenceInterval(104, 11_037, 189, 11_034, 0.95)!;
    printedAs(d.estimate, 0.0077, 4);
    printedAs(d.interval.low, 0.005, 3);
    printedAs(d.interval.high, 0.011, 3);
    const t = twoProportionZTest(104, 11_037, 189, 11_034)!;
    // z squared is Pearson's X^2 for the 2x2 table: about 25, a p-value below 1e-6.
    printedAs(t.z * t.z, 25.0, 0);
    expect(t.pValue).toBeLessThan(1e-6);
  });

  // The Evans County catecholamine (CAT) and coronary heart disease data (Kleinbaum, Kupper & Morgenstern,
  // Epidemiologic Research, 1982): 27 of 122 with high CAT and 44 of 487 with normal CAT developed CHD.
  // Risk ratio 2.4495 with the log-method (Katz) 95 % interval 1.5837 to 3.7887, as worked in SciPy's
  // reference for scipy.stats.contingency.relative_risk. Lift is the ratio minus one.
  it('lift interval of the Evans County CAT data is the risk ratio\'s Katz interval minus one', () => {
    const lift = liftInterval(44, 487, 27, 122, 0.95)!;
    printedAs(lift.estimate + 1, 2.4495, 4);
    printedAs(lift.interval.low + 1, 1.5837, 4);
    printedAs(lift.interval.high + 1, 3.7887, 4);
  });

  // OpenIntro Statistics, 4th ed., section 6.3.2: jurors by race, 205, 26, 25 and 19 of 275 against the
  // population's 0.72, 0.07, 0.12 and 0.09: X^2 = 5.89 on 3 degrees of freedom, p-value 0.1171.
  it('chi-square goodness of fit of the jury example (OpenIntro Statistics, 6.3.2)', () => {
    const fit = chiSquareGoodnessOfFit([205, 26, 25, 19], [0.72, 0.07, 0.12, 0.09]);
    printedAs(fit.statistic, 5.89, 2);
    expect(fit.df).toBe(3);
    printedAs(fit.pValue, 0.1171, 4);
  });

  // Mendel's F2 seed shapes, 5474 round and 1850 wrinkled against 3:1: the textbook goodness-of-fit
  // example with one degree of freedom (X^2 = 0.263, P = 0.61), the same test as a two-variant SRM check.
  it('chi-square goodness of fit of Mendel\'s round and wrinkled seeds', () => {
    const fit = chiSquareGoodnessOfFit([5474, 1850], [0.75, 0.25]);
    printedAs(fit.statistic, 0.263, 3);
    expect(fit.df).toBe(1);
    printedAs(fit.pValue, 0.61, 2);
  });

  // Dunn OJ & Clark VA, Basic Statistics: A Primer for the Biomedical Sciences, 4th ed. (2009), section
  // 10.7: to detect 0.12 against 0.20 with a two-sided test at alpha 0.05 and 80 % power, n = 328.6, so
  // 329 in each group (without the continuity correction).
  it('sample size for 0.12 against 0.20 at 80 % power is 329 per group (Dunn & Clark, 10.7)', () => {
    expect(sampleSizePerGroup(0.12, 0.2, 0.05, 0.8)).toEqual({ group1: 329, group2: 329 });
  });

  it('sizes unequal groups by their ratio, needing more in all than an even split', () => {
    const even = sampleSizePerGroup(0.12, 0.2, 0.05, 0.8)!;
    const uneven = sampleSizePerGroup(0.12, 0.2, 0.05, 0.8, 3)!;
    expect(uneven.group2 / uneven.group1).toBeCloseTo(3, 1);
    expect(uneven.group1 + uneven.group2).toBeGreaterThan(even.group1 + even.group2);
  });
});

describe('the results and their recommendation', () => {
  const base: ExperimentInput = {
    a: { exposures: 0, starts: 0, completions: 0 },
    b: { exposures: 0, starts: 0, completions: 0 },
    trafficSplit: 0.5,
    confidence: 0.95,
    minimumDetectableEffect: 0.5,
    minimumSampleSize: 100,
    metric: 'completion_rate',
  };

  it('keeps running with no data, and says why', () => {
    const r = analyzeExperiment(base);
    expect(r.recommendation).toBe('keep_running');
    expect(r.sampleSize.required).toBeNull();
    expect(r.srm.mismatch).toBe(false);
    expect(r.variants.map((v) => v.conversionRate)).toEqual([null, null]);
  });

  it('keeps running below the planned sample even when the difference is already significant', () => {
    // 30 % against 60 % over 60 each: p < 0.001, but the planned sample for a 50 % lift on 30 % is larger.
    const r = analyzeExperiment({ ...base, a: { exposures: 60, starts: 60, completions: 18 }, b: { exposures: 60, starts: 60, completions: 36 } });
    expect(r.test!.significant).toBe(true);
    expect(r.sampleSize.reached).toBe(false);
    expect(r.recommendation).toBe('keep_running');
    expect(r.sampleSize.required!.a).toBeGreaterThan(60);
  });

  it('recommends variant B once the sample is reached and B is significantly better', () => {
    const r = analyzeExperiment({ ...base, a: { exposures: 400, starts: 380, completions: 120 }, b: { exposures: 400, starts: 390, completions: 180 } });
    expect(r.sampleSize.reached).toBe(true);
    expect(r.recommendation).toBe('implement_variant_b');
    expect(r.lift!.estimate).toBeCloseTo(0.5, 6);
    expect(r.difference!.estimate).toBeCloseTo(0.15, 6);
  });

  it('says no significant difference past the planned sample when the rates are alike', () => {
    const r = analyzeExperiment({ ...base, a: { exposures: 400, starts: 380, completions: 120 }, b: { exposures: 400, starts: 385, completions: 126 } });
    expect(r.recommendation).toBe('no_significant_difference');
  });

  it('flags a sample ratio mismatch and makes no recommendation, however strong the result', () => {
    const r = analyzeExperiment({ ...base, a: { exposures: 1000, starts: 1000, completions: 300 }, b: { exposures: 700, starts: 700, completions: 350 } });
    expect(r.srm.mismatch).toBe(true);
    expect(r.srm.pValue).toBeLessThan(0.001);
    expect(r.recommendation).toBe('investigate_sample_ratio_mismatch');
  });

  it('measures starts instead of completions for a start_rate test', () => {
    const r = analyzeExperiment({ ...base, metric: 'start_rate', a: { exposures: 10, starts: 5, completions: 1 }, b: { exposures: 10, starts: 8, completions: 2 } });
    expect(r.variants.map((v) => v.conversions)).toEqual([5, 8]);
  });
});
