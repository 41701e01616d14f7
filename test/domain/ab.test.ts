import crypto from 'node:crypto';
import { allowedTransitions, assignVariant, bucketOf, canTransition, mergeVariant, unknownVariantSteps } from '../../domain/ab';
import { chiSquareGoodnessOfFit } from '../../domain/ab-stats';

/** 100,000 simulated users: ids as the API makes them (random UUIDs, lower case). */
const USERS = Array.from({ length: 100_000 }, () => crypto.randomUUID());
const TEST = crypto.randomUUID();

describe('A/B assignment over 100,000 simulated users', () => {
  it.each([0.5, 0.2, 0.9])('follows a traffic split of %f within four standard errors', (split) => {
    const inA = USERS.filter((u) => assignVariant(TEST, u, split) === 'a').length;
    const sd = Math.sqrt(USERS.length * split * (1 - split));
    expect(Math.abs(inA - USERS.length * split)).toBeLessThan(4 * sd);
  });

  it('spreads users evenly over the buckets (chi-square over 100 equal bins passes at 0.001)', () => {
    const bins = new Array<number>(100).fill(0);
    for (const u of USERS) bins[Math.floor(bucketOf(TEST, u) * 100)]!++;
    expect(chiSquareGoodnessOfFit(bins, new Array(100).fill(0.01)).pValue).toBeGreaterThan(0.001);
  });

  it('gives a user the same variant every time, and independent variants in different tests', () => {
    const again = USERS.slice(0, 10_000).every((u) => assignVariant(TEST, u, 0.5) === assignVariant(TEST, u, 0.5));
    expect(again).toBe(true);
    const other = crypto.randomUUID();
    const same = USERS.filter((u) => assignVariant(TEST, u, 0.5) === assignVariant(other, u, 0.5)).length;
    expect(Math.abs(same - 50_000)).toBeLessThan(4 * Math.sqrt(25_000));
  });

  it('moves only users across the new boundary when the split changes (the hash alone is not sticky)', () => {
    const before = USERS.map((u) => assignVariant(TEST, u, 0.5));
    const after = USERS.map((u) => assignVariant(TEST, u, 0.7));
    const moved = before.filter((v, i) => v !== after[i]).length;
    // About a fifth move from B to A, none from A to B: why the first assignment is stored.
    expect(before.filter((v, i) => v === 'a' && after[i] === 'b')).toHaveLength(0);
    expect(Math.abs(moved - 20_000)).toBeLessThan(4 * Math.sqrt(100_000 * 0.2 * 0.8));
  });

  it('refuses ids that are not canonical, which would split one user into two', () => {
    expect(() => bucketOf(TEST.toUpperCase(), USERS[0]!)).toThrow(/lower-case/);
  });
});

describe('the A/B test lifecycle', () => {
  it.each([
    ['draft', 'running', true],
    ['running', 'paused', true],
    ['paused', 'running', true],
    ['running', 'completed', true],
    ['completed', 'running', false],
    ['running', 'draft', false],
    ['archived', 'running', false],
  ] as const)('%s -> %s: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  it('lets nothing leave archived', () => {
    expect(allowedTransitions('archived')).toEqual([]);
  });
});

describe('variants merged into steps', () => {
  const steps = [
    { step_key: 'welcome', title: 'Welcome', skip_enabled: false },
    { step_key: 'budget', title: 'Budget', skip_enabled: true },
  ];

  it('replaces the named fields of the named steps, by key', () => {
    const merged = mergeVariant(steps, { steps: { budget: { title: 'Your budget, sorted' } } });
    expect(merged).toEqual([steps[0], { step_key: 'budget', title: 'Your budget, sorted', skip_enabled: true }]);
  });

  it('never changes the shape: a key or skip_enabled in a variant is ignored', () => {
    const merged = mergeVariant(steps, { steps: { welcome: { step_key: 'hijacked', skip_enabled: true } as never } });
    expect(merged[0]).toEqual(steps[0]);
  });

  it('names the steps a variant refers to that the tour does not have', () => {
    expect(unknownVariantSteps({ steps: { welcome: {}, guests: {} } }, ['welcome', 'budget'])).toEqual(['guests']);
  });
});
