import crypto from 'node:crypto';
import { tourStateQuery, tourWorkflowId } from '../../workflows/tour-lifecycle/messages';
import { as, expectEnvelope, publishedTour, stepsOf } from '../support/authoring';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { ensureMember, startStack, type Stack } from '../support/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack.close();
});

async function runningTest(org: OrgFixture, tourId: string, body: Record<string, unknown> = {}): Promise<string> {
  const admin = as(stack, org);
  const created = await admin.post('/api/tours/ab-tests', { tour_id: tourId, test_name: 'Warmer welcome', variant_a: {}, variant_b: { steps: { one: { title: 'Welcome, lovebirds!' } } }, traffic_split: 0.5, ...body });
  expect(created.status).toBe(201);
  expect(created.body.ab_test.status).toBe('draft');
  const started = await admin.post(`/api/tours/ab-tests/${created.body.ab_test.id}/status`, { status: 'running' });
  expect(started.body.ab_test).toMatchObject({ status: 'running', start_date: expect.any(String) });
  return created.body.ab_test.id;
}

/**
 * Exposures and outcomes as the API records them, for `n` simulated people of one variant: an
 * assignment under the hash of test and user, and a start and a completion event carrying the variant.
 */
async function simulate(org: OrgFixture, tourId: string, testId: string, variant: 'a' | 'b', n: { exposures: number; starts: number; completions: number }) {
  const users = Array.from({ length: n.exposures }, () => crypto.randomUUID());
  await stack.ownerDb.batchInsert(
    'tour_ab_assignments',
    users.map((u) => ({ organization_id: org.orgId, ab_test_id: testId, tour_id: tourId, variant, subject_hash: stack.ownerDb.raw('tourhub_ab_subject(?::uuid, ?::uuid)', [testId, u]) })),
    500,
  );
  const event = (u: string, type: string) => ({ user_id: u, organization_id: org.orgId, tour_id: tourId, event_type: type, event_data: JSON.stringify({ ab_test_id: testId, ab_test_variant: variant }) });
  await stack.ownerDb.batchInsert('tour_analytics_events', [...users.slice(0, n.starts).map((u) => event(u, 'tour_started')), ...users.slice(0, n.completions).map((u) => event(u, 'tour_completed'))], 500);
}

describe('A/B tests', () => {
  it('follows the seed\'s lifecycle with one running test per tour', async () => {
    const org = await createOrg(stack.ownerDb);
    const admin = as(stack, org);
    const tourId = await publishedTour(stack, org);
    const first = await runningTest(org, tourId);
    const second = (await admin.post('/api/tours/ab-tests', { tour_id: tourId, test_name: 'Shorter tour', variant_a: {}, variant_b: {}, traffic_split: 0.5 })).body.ab_test.id;
    const refused = await admin.post(`/api/tours/ab-tests/${second}/status`, { status: 'running' });
    expectEnvelope(refused, 409, 'ab_test_already_running');
    expect(refused.body.error.details.running_test_id).toBe(first);

    expect((await admin.post(`/api/tours/ab-tests/${first}/status`, { status: 'paused' })).body.ab_test.status).toBe('paused');
    expect((await admin.post(`/api/tours/ab-tests/${second}/status`, { status: 'running' })).status).toBe(200);
    expectEnvelope(await admin.post(`/api/tours/ab-tests/${first}/status`, { status: 'running' }), 409, 'ab_test_already_running');
    const done = await admin.post(`/api/tours/ab-tests/${first}/status`, { status: 'completed' });
    expect(done.body.ab_test).toMatchObject({ status: 'completed', end_date: expect.any(String) });
    const back = await admin.post(`/api/tours/ab-tests/${first}/status`, { status: 'running' });
    expectEnvelope(back, 409, 'invalid_ab_test_transition');
    expect(back.body.error.details.allowed).toEqual(['archived']);
    expectEnvelope(await admin.patch(`/api/tours/ab-tests/${second}`, { variant_b: { steps: { one: { title: 'Changed' } } } }), 409, 'ab_test_not_draft');
    expect((await admin.patch(`/api/tours/ab-tests/${second}`, { traffic_split: 0.3 })).body.ab_test.traffic_split).toBe(0.3);
    expect((await admin.get(`/api/tours/ab-tests?tour_id=${tourId}&status=running`)).body.ab_tests.map((t: { id: string }) => t.id)).toEqual([second]);
  });

  it('shows each person their variant, keeps it when the split changes, and records it with their run and its events', async () => {
    const org = await createOrg(stack.ownerDb);
    const tourId = await publishedTour(stack, org, { steps: stepsOf(['one', 'two']) });
    const testId = await runningTest(org, tourId);
    const people = Array.from({ length: 16 }, () => crypto.randomUUID());
    const seen = new Map<string, string>();
    for (const p of people) {
      const res = await as(stack, org, p).get(`/api/tours/${tourId}`);
      seen.set(p, res.body.ab_test_variant);
      expect(res.body.tour.steps[0].title).toBe(res.body.ab_test_variant === 'b' ? 'Welcome, lovebirds!' : 'Title of one');
    }
    expect(new Set(seen.values())).toEqual(new Set(['a', 'b']));
    // Stored on first exposure, under a hash: the table holds no user id.
    const stored = await stack.ownerDb('tour_ab_assignments').where({ ab_test_id: testId });
    expect(stored).toHaveLength(16);
    expect(Object.keys(stored[0])).not.toContain('user_id');
    expect(JSON.stringify(stored)).not.toContain(people[0]);

    // Everyone would be A by the hash now; those already exposed keep what they saw.
    await as(stack, org).patch(`/api/tours/ab-tests/${testId}`, { traffic_split: 1 });
    for (const p of people) expect((await as(stack, org, p).get(`/api/tours/${tourId}`)).body.ab_test_variant).toBe(seen.get(p));
    expect((await as(stack, org, crypto.randomUUID()).get(`/api/tours/${tourId}`)).body.ab_test_variant).toBe('a');

    // A B person's run: the variant in the start, the listing, the progress, the workflow and every event.
    const inB = people.find((p) => seen.get(p) === 'b')!;
    const b = as(stack, org, inB);
    const started = await b.post(`/api/tours/${tourId}/start`, {});
    expect(started.body).toMatchObject({ ab_test_variant: 'b', current_step: { title: 'Welcome, lovebirds!' }, progress: { ab_test_variant: 'b' } });
    expect((await b.get('/api/tours')).body.tours.find((t: { id: string }) => t.id === tourId).ab_test_variant).toBe('b');
    const moved = await b.put(`/api/tours/progress/${started.body.progress_id}`, { action: 'next_step' });
    expect(moved.body.progress.ab_test_variant).toBe('b');
    const state = await stack.client.workflow.getHandle(tourWorkflowId(org.orgId, inB, tourId)).query(tourStateQuery);
    expect(state).toMatchObject({ abTest: { testId, variant: 'b' }, tourVersion: 1 });
    const events = await stack.ownerDb('tour_analytics_events').where({ progress_id: started.body.progress_id });
    expect(events.length).toBeGreaterThanOrEqual(3);
    for (const e of events) expect(e.event_data).toMatchObject({ ab_test_id: testId, ab_test_variant: 'b', tour_version: 1 });
    expect(await stack.ownerDb('user_tour_progress').where({ id: started.body.progress_id }).first()).toMatchObject({ ab_test_id: testId, ab_variant: 'b' });
  });

  it('counts the results per variant from the stored exposures and the runs\' events, never a client\'s own events', async () => {
    const org = await createOrg(stack.ownerDb);
    const tourId = await publishedTour(stack, org, { steps: stepsOf(['one']) });
    const testId = await runningTest(org, tourId);
    for (const p of [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()]) {
      await ensureMember(stack.ownerDb, { orgId: org.orgId, userId: p, role: 'member' });
      const person = as(stack, org, p);
      const started = await person.post(`/api/tours/${tourId}/start`, {});
      await person.put(`/api/tours/progress/${started.body.progress_id}`, { action: 'next_step' });
    }
    // A fourth person is shown the tour and never starts it, but their client sends its own analytics
    // events claiming a start and a completion in the test: those are not the runs' records and do not count.
    const shown = crypto.randomUUID();
    await ensureMember(stack.ownerDb, { orgId: org.orgId, userId: shown, role: 'member' });
    const viewer = as(stack, org, shown);
    const variant = (await viewer.get(`/api/tours/${tourId}`)).body.ab_test_variant;
    for (const event_type of ['tour_started', 'tour_completed']) {
      const claimed = await viewer.post('/api/tours/analytics/events', { id: crypto.randomUUID(), tour_id: tourId, event_type, event_data: { ab_test_id: testId, ab_test_variant: variant } });
      expect(claimed.status).toBe(200);
    }
    const results = (await as(stack, org).get(`/api/tours/ab-tests/${testId}/results`)).body;
    const total = (k: 'exposures' | 'starts' | 'completions') => results.variants.reduce((s: number, v: Record<string, number>) => s + v[k]!, 0);
    expect({ exposures: total('exposures'), starts: total('starts'), completions: total('completions') }).toEqual({ exposures: 4, starts: 3, completions: 3 });
    expect(results.recommendation).toBe('keep_running');
  });

  // Newcombe RG (1998), Statistics in Medicine 17:857-872, Table I: Wilson intervals of 81/263
  // (0.2553 to 0.3662) and 15/148 (0.0624 to 0.1605); the split is set to the exposures' own ratio so the
  // sample-ratio check passes.
  it('matches the worked Wilson intervals (Newcombe 1998, Table I) through the API', async () => {
    const org = await createOrg(stack.ownerDb);
    const tourId = await publishedTour(stack, org, { steps: stepsOf(['one']) });
    const testId = await runningTest(org, tourId, { traffic_split: 0.64 });
    await simulate(org, tourId, testId, 'a', { exposures: 263, starts: 263, completions: 81 });
    await simulate(org, tourId, testId, 'b', { exposures: 148, starts: 148, completions: 15 });
    const r = (await as(stack, org).get(`/api/tours/ab-tests/${testId}/results`)).body;
    const [a, b] = r.variants;
    expect(a).toMatchObject({ variant: 'a', exposures: 263, starts: 263, completions: 81, conversions: 81 });
    expect(a.conversion_rate_ci.low).toBeCloseTo(0.2553, 4);
    expect(a.conversion_rate_ci.high).toBeCloseTo(0.3662, 4);
    expect(b.conversion_rate_ci.low).toBeCloseTo(0.0624, 4);
    expect(b.conversion_rate_ci.high).toBeCloseTo(0.1605, 4);
    expect(r.sample_ratio.mismatch).toBe(false);
    expect(r.significance_test).toMatchObject({ method: 'two_proportion_z_test', significant: true, alpha: 0.05 });
  });

  // Newcombe RG (1998), Statistics in Medicine 17:873-890, example (a): 56/70 against 48/80, the Wald
  // interval of the difference 0.0575 to 0.3425.
  it('matches the worked difference interval (Newcombe 1998b, example a) and keeps running short of the planned sample', async () => {
    const org = await createOrg(stack.ownerDb);
    const tourId = await publishedTour(stack, org, { steps: stepsOf(['one']) });
    const testId = await runningTest(org, tourId);
    await simulate(org, tourId, testId, 'a', { exposures: 80, starts: 80, completions: 48 });
    await simulate(org, tourId, testId, 'b', { exposures: 70, starts: 70, completions: 56 });
    const r = (await as(stack, org).get(`/api/tours/ab-tests/${testId}/results`)).body;
    expect(r.difference.estimate).toBeCloseTo(0.2, 10);
    expect(r.difference.ci.low).toBeCloseTo(0.0575, 4);
    expect(r.difference.ci.high).toBeCloseTo(0.3425, 4);
    expect(r.lift.estimate).toBeCloseTo(0.8 / 0.6 - 1, 10);
    expect(r.significance_test.p_value).toBeLessThan(0.05);
    // Sized for a 10 % lift on 60 %: far more than 80 people a variant.
    expect(r.sample_size).toMatchObject({ power: 0.8, minimum_detectable_effect: 0.1, baseline_rate: 0.6, reached: false });
    expect(r.sample_size.required_per_variant.a).toBeGreaterThan(80);
    expect(r.recommendation).toBe('keep_running');
  });

  it('flags a sample ratio mismatch on a skewed split and makes no recommendation', async () => {
    const org = await createOrg(stack.ownerDb);
    const tourId = await publishedTour(stack, org, { steps: stepsOf(['one']) });
    const testId = await runningTest(org, tourId, { minimum_detectable_effect: 0.5, minimum_sample_size: 10 });
    await simulate(org, tourId, testId, 'a', { exposures: 1000, starts: 900, completions: 300 });
    await simulate(org, tourId, testId, 'b', { exposures: 700, starts: 650, completions: 350 });
    const r = (await as(stack, org).get(`/api/tours/ab-tests/${testId}/results`)).body;
    expect(r.sample_ratio).toMatchObject({ method: 'chi_square_goodness_of_fit', degrees_of_freedom: 1, mismatch: true, threshold: 0.001 });
    expect(r.sample_ratio.p_value).toBeLessThan(1e-10);
    expect(r.sample_size.reached).toBe(true);
    expect(r.recommendation).toBe('investigate_sample_ratio_mismatch');
  });

  it('refuses bad tests and other organisations\' tests, changing nothing', async () => {
    const org = await createOrg(stack.ownerDb);
    const admin = as(stack, org);
    const tourId = await publishedTour(stack, org);
    const testId = await runningTest(org, tourId);
    const before = await stack.ownerDb('tour_ab_tests').where({ tour_id: tourId }).orderBy('id');
    expectEnvelope(await admin.post('/api/tours/ab-tests', { tour_id: tourId, test_name: 'x', traffic_split: 1.5 }), 400, 'validation_error');
    expectEnvelope(await admin.post('/api/tours/ab-tests', { tour_id: tourId, test_name: 'x', traffic_split: -0.1 }), 400, 'validation_error');
    expectEnvelope(await admin.patch(`/api/tours/ab-tests/${testId}`, { traffic_split: 2 }), 400, 'validation_error');
    expectEnvelope(await admin.post('/api/tours/ab-tests', { tour_id: tourId, test_name: 'x', variant_b: { steps: { nope: { title: 'x' } } } }), 422, 'unknown_variant_step');
    expectEnvelope(await admin.post('/api/tours/ab-tests', { tour_id: tourId, test_name: 'x', variant_b: { steps: { one: { skip_enabled: false } } } }), 400, 'validation_error');
    expectEnvelope(await as(stack, org, org.memberId).get(`/api/tours/ab-tests/${testId}/results`), 403, 'admin_required');
    const other = await createOrg(stack.ownerDb);
    expectEnvelope(await as(stack, other).get(`/api/tours/ab-tests/${testId}/results`), 404, 'not_found');
    expectEnvelope(await as(stack, other).post(`/api/tours/ab-tests/${testId}/status`, { status: 'paused' }), 404, 'not_found');
    expectEnvelope(await as(stack, other).post('/api/tours/ab-tests', { tour_id: tourId, test_name: 'x' }), 404, 'not_found');
    expect(await stack.ownerDb('tour_ab_tests').where({ tour_id: tourId }).orderBy('id')).toEqual(before);
  });
});
