import { factsOf, offer, ruleContext, stepsForRun, weddingPhaseFor, type TourTargeting } from '../../domain/targeting';

const tour: TourTargeting = {
  target_audience: ['couples'],
  wedding_phase: 'planning',
  prerequisite_tours: ['t-intro'],
  show_conditions: { field: 'guest_count', op: 'gte', value: 50 },
  skip_conditions: { field: 'has_planner', op: 'eq', value: true },
};

describe('targeting', () => {
  it.each([
    [-1, 'post_wedding'],
    [0, 'wedding_week'],
    [7, 'wedding_week'],
    [8, 'final_month'],
    [31, 'final_month'],
    [32, 'planning'],
    [365, 'planning'],
    [366, 'engagement'],
  ] as const)('a wedding %i days away is in %s', (days, phase) => {
    expect(weddingPhaseFor(days)).toBe(phase);
  });

  it('derives the phase from the wedding date and today', () => {
    expect(factsOf({ weddingDate: '2027-06-12', audience: 'couples' }, [], '2027-05-20')).toMatchObject({ days_until_wedding: 23, wedding_phase: 'final_month', audience: 'couples' });
  });

  it('offers a tour to its audience and phase once its prerequisites are complete and its rules hold', () => {
    const facts = factsOf({ audience: 'couples', weddingDate: '2027-06-12' }, ['t-intro'], '2027-01-10');
    expect(offer(tour, facts, ruleContext(facts, {}, { guest_count: 80 }))).toEqual({ offered: true });
  });

  it.each([
    ['another audience', { audience: 'venues' as const }, ['t-intro'], { guest_count: 80 }, 'audience'],
    ['another phase', { audience: 'couples' as const, weddingDate: '2027-01-20' }, ['t-intro'], { guest_count: 80 }, 'wedding_phase'],
    ['a missing prerequisite', { audience: 'couples' as const }, [], { guest_count: 80 }, 'prerequisites'],
    ['a show rule that fails', { audience: 'couples' as const }, ['t-intro'], { guest_count: 10 }, 'show_conditions'],
    ['a skip rule that holds', { audience: 'couples' as const }, ['t-intro'], { guest_count: 80, has_planner: true }, 'skip_conditions'],
  ])('does not offer it for %s', (_name, profile, completed, client, reason) => {
    const facts = factsOf(profile, completed, '2027-01-10');
    expect(offer(tour, facts, ruleContext(facts, {}, client))).toEqual({ offered: false, reason });
  });

  it('offers every audience and phase when the profile knows neither', () => {
    const facts = factsOf({}, ['t-intro'], '2027-01-10');
    expect(offer({ ...tour, target_audience: ['venues'], wedding_phase: 'post_wedding' }, facts, { guest_count: 60 })).toEqual({ offered: true });
  });

  it('offers an all_suppliers tour to each supplier but not to couples', () => {
    const t = { ...tour, target_audience: ['all_suppliers'], prerequisite_tours: [], show_conditions: {}, skip_conditions: {} };
    expect(offer(t, factsOf({ audience: 'florists' }, [], '2027-01-10'), {})).toEqual({ offered: true });
    expect(offer(t, factsOf({ audience: 'couples' }, [], '2027-01-10'), {})).toEqual({ offered: false, reason: 'audience' });
  });

  it('lets the profile\'s facts win over what the client claims', () => {
    const facts = factsOf({ audience: 'couples' }, [], '2027-01-10');
    expect(ruleContext(facts, { city: 'Porto' }, { audience: 'venues', city: 'Lisbon', guests: 3 })).toMatchObject({ audience: 'couples', city: 'Porto', guests: 3 });
  });

  it('keeps the steps whose show rule holds and whose skip rule does not, in order', () => {
    const steps = [
      { step_key: 'welcome', show_conditions: {}, skip_conditions: {} },
      { step_key: 'seating', show_conditions: { field: 'guest_count', op: 'gt', value: 100 }, skip_conditions: {} },
      { step_key: 'planner', show_conditions: {}, skip_conditions: { field: 'has_planner', op: 'eq', value: true } },
      { step_key: 'budget', show_conditions: {}, skip_conditions: {} },
    ] as const;
    expect(stepsForRun(steps, { guest_count: 40, has_planner: true }).map((s) => s.step_key)).toEqual(['welcome', 'budget']);
    expect(stepsForRun(steps, { guest_count: 140 }).map((s) => s.step_key)).toEqual(['welcome', 'seating', 'planner', 'budget']);
  });
});
