/** The couples bench/reconcile.ts seeds on our side and bench/reconcile-fake.ts at the provider: the same i, the same person. */
export const couple = (i: number) => ({
  email: `c${i}@bench.test`,
  first: `First${i}`,
  last: `Last${i}`,
  phone: `+1555${String(i).padStart(7, '0')}`,
  /** Four in five finished the tour (and carry seed 001's tags at the email provider). */
  completed: i % 5 !== 0,
});
