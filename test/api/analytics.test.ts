import crypto from 'node:crypto';
import request from 'supertest';
import { addTour, createOrg, type OrgFixture } from '../support/fixtures';
import { startStack, tokenFor, type Stack } from '../support/stack';

let stack: Stack;

beforeAll(async () => {
  // Nothing here moves a tour through a workflow: the fixture writes progress rows itself.
  stack = await startStack({ worker: false });
});

afterAll(async () => {
  await stack.close();
});

const DAY = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);

function expectEnvelope(res: request.Response, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
}

const event = (tourId: string, type: string, extra: Record<string, unknown> = {}) => ({ id: crypto.randomUUID(), tour_id: tourId, event_type: type, ...extra });

function track(token: string, body: unknown) {
  return request(stack.app).post('/api/tours/analytics/events').set('Authorization', `Bearer ${token}`).send(body as object);
}

async function storedEvents(userId: string): Promise<number> {
  const [row] = await stack.ownerDb('tour_analytics_events').where({ user_id: userId }).count<{ n: number }[]>({ n: '*' });
  return Number(row!.n);
}

async function dailyCount(orgId: string): Promise<number> {
  const [row] = await stack.ownerDb('tour_analytics_daily').where({ organization_id: orgId }).sum<{ n: number }[]>({ n: 'event_count' });
  return Number(row?.n ?? 0);
}

describe('ingestion', () => {
  let org: OrgFixture;
  let token: string;

  beforeAll(async () => {
    org = await createOrg(stack.ownerDb, { steps: 3 });
    token = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
  });

  it('records one event with the seed\'s answer, filling user agent and page from the request', async () => {
    const e = event(org.tourId, 'tooltip_clicked', { step_key: 'step_1', step_index: 1, event_data: { tooltip: 'budget' } });
    const res = await track(token, e).set('User-Agent', 'TestBrowser/1.0').set('Referer', 'https://app.example/dashboard');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ event_id: e.id, recorded_events: 1, duplicate_events: 0, failed_events: 0, results: [{ index: 0, id: e.id, status: 'recorded' }] });
    expect(typeof res.body.recorded_at).toBe('string');
    const row = await stack.ownerDb('tour_analytics_events').where({ event_key: `c:${org.memberId}:${e.id}` }).first();
    expect(row).toMatchObject({
      user_id: org.memberId,
      organization_id: org.orgId,
      tour_id: org.tourId,
      event_type: 'tooltip_clicked',
      step_key: 'step_1',
      user_agent: 'TestBrowser/1.0',
      page_url: 'https://app.example/dashboard',
      event_data: { tooltip: 'budget' },
    });
  });

  it('counts a batch sent twice once, in the raw events and in the daily aggregates', async () => {
    const sessionId = crypto.randomUUID();
    const batch = {
      context: { session_id: sessionId, page_url: 'https://app.example/tour', referrer: 'https://app.example/' },
      events: Array.from({ length: 500 }, (_, i) => event(org.tourId, i % 2 ? 'step_viewed' : 'help_requested', { step_key: `step_${i % 3}`, load_time_ms: 100 + i })),
    };
    const before = { raw: await storedEvents(org.memberId), daily: await dailyCount(org.orgId) };
    const first = await track(token, batch);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ recorded_events: 500, duplicate_events: 0, failed_events: 0 });
    const retried = await track(token, batch);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ recorded_events: 0, duplicate_events: 500, failed_events: 0 });
    expect(retried.body.results.every((r: { status: string }) => r.status === 'duplicate')).toBe(true);
    expect(await storedEvents(org.memberId)).toBe(before.raw + 500);
    expect(await dailyCount(org.orgId)).toBe(before.daily + 500);
    const row = await stack.ownerDb('tour_analytics_events').where({ event_key: `c:${org.memberId}:${batch.events[7]!.id}` }).first();
    expect(row).toMatchObject({ session_id: sessionId, page_url: 'https://app.example/tour', referrer: 'https://app.example/', load_time_ms: 107 });
  });

  it('takes the seed\'s plain array, and the same id twice in one batch once', async () => {
    const e = event(org.tourId, 'step_viewed', { step_key: 'step_0' });
    const res = await track(token, [e, e]);
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['recorded', 'duplicate']);
    expect(res.body.event_id).toBeUndefined();
  });

  it('refuses an event for another organisation\'s tour, or someone else\'s progress, and records the rest', async () => {
    const other = await createOrg(stack.ownerDb);
    const progressOfSomeoneElse = crypto.randomUUID();
    await stack.ownerDb('user_tour_progress').insert({ id: progressOfSomeoneElse, user_id: org.otherMemberId, organization_id: org.orgId, tour_id: org.tourId, workflow_id: 'w' });
    const events = [
      event(other.tourId, 'step_viewed'),
      event(org.tourId, 'step_viewed'),
      event(org.tourId, 'step_viewed', { progress_id: progressOfSomeoneElse }),
    ];
    const res = await track(token, { events });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ recorded_events: 1, failed_events: 2 });
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['refused', 'recorded', 'refused']);
    expect(res.body.results[0].error).toMatchObject({ code: 'not_found' });
    const stored = await stack.ownerDb('tour_analytics_events').whereIn('event_key', events.map((e) => `c:${org.memberId}:${e.id}`)).pluck('tour_id');
    expect(stored).toEqual([org.tourId]);
    expect(await stack.ownerDb('tour_analytics_events').where({ tour_id: other.tourId }).first()).toBeUndefined();
  });

  it('accepts a sendBeacon body: text/plain JSON with a beacon token minted for the page', async () => {
    const minted = await request(stack.app).post('/api/tours/analytics/beacon-token').set('Authorization', `Bearer ${token}`);
    expect(minted.status).toBe(200);
    expect(Date.parse(minted.body.expires_at)).toBeGreaterThan(Date.now() + 50 * 60_000);
    const events = [event(org.tourId, 'tour_abandoned', { step_key: 'step_2' }), event(org.tourId, 'error_encountered', { step_key: 'step_2' })];
    const res = await request(stack.app)
      .post('/api/tours/analytics/batch')
      .set('Content-Type', 'text/plain;charset=UTF-8')
      .send(JSON.stringify({ beacon_token: minted.body.beacon_token, events }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ recorded_events: 2 });
    const stored = await stack.ownerDb('tour_analytics_events').whereIn('event_key', events.map((e) => `c:${org.memberId}:${e.id}`)).pluck('user_id');
    expect(stored).toEqual([org.memberId, org.memberId]);
  });

  describe('bad input gets the envelope and records nothing', () => {
    it.each([
      ['a batch of 1,001 events', () => ({ events: Array.from({ length: 1001 }, () => event(org.tourId, 'step_viewed')) }), 'events'],
      ['an unknown event type', () => ({ events: [event(org.tourId, 'step_viewed'), event(org.tourId, 'page_exploded')] }), 'events.1.event_type'],
      ['an event without an id', () => ({ tour_id: org.tourId, event_type: 'step_viewed' }), 'id'],
      ['an event_data of 5 kB', () => [event(org.tourId, 'step_viewed', { event_data: { note: 'x'.repeat(5000) } })], '0.event_data'],
    ])('%s', async (_name, body, path) => {
      const before = await storedEvents(org.memberId);
      const res = await track(token, body());
      expectEnvelope(res, 400, 'validation_error');
      expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual([path]);
      expect(await storedEvents(org.memberId)).toBe(before);
    });

    it('names the unknown event type', async () => {
      const res = await track(token, { events: [event(org.tourId, 'page_exploded')] });
      expect(res.body.error.details.issues[0].message).toContain('"page_exploded"');
    });

    it('text/plain anywhere but the beacon route', async () => {
      const res = await request(stack.app)
        .post('/api/tours/analytics/events')
        .set('Authorization', `Bearer ${token}`)
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify(event(org.tourId, 'step_viewed')));
      expectEnvelope(res, 415, 'unsupported_media_type');
    });

    it('a beacon without a valid token, and a beacon token used as a bearer token', async () => {
      const e = event(org.tourId, 'step_viewed');
      const forged = await request(stack.app).post('/api/tours/analytics/batch').set('Content-Type', 'text/plain').send(JSON.stringify({ beacon_token: token, events: [e] }));
      expectEnvelope(forged, 401, 'invalid_beacon_token');
      const notJson = await request(stack.app).post('/api/tours/analytics/batch').set('Content-Type', 'text/plain').send('{"events": [');
      expectEnvelope(notJson, 400, 'malformed_json');
      const minted = await request(stack.app).post('/api/tours/analytics/beacon-token').set('Authorization', `Bearer ${token}`);
      const asBearer = await track(minted.body.beacon_token, e);
      expectEnvelope(asBearer, 401, 'invalid_token');
      expect(await stack.ownerDb('tour_analytics_events').where({ event_key: `c:${org.memberId}:${e.id}` }).first()).toBeUndefined();
    });
  });
});

describe('the dashboard, against a hand-counted fixture', () => {
  let org: OrgFixture;
  let adminToken: string;
  let otherTour: string;
  const people = Array.from({ length: 7 }, () => crypto.randomUUID());

  beforeAll(async () => {
    org = await createOrg(stack.ownerDb, { steps: 3 });
    otherTour = await addTour(stack.ownerDb, org.orgId, { steps: 3 });
    adminToken = await tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });
    const at = (offset: number) => new Date(Date.now() + offset * DAY);
    const progress = (user: string, tour: string, row: Record<string, unknown>) => ({
      id: crypto.randomUUID(),
      user_id: user,
      organization_id: org.orgId,
      tour_id: tour,
      workflow_id: 'w',
      total_steps: 3,
      started_at: at(-3),
      ...row,
    });
    // In the range (the last 10 days), tour T: two completed, two abandoned (at steps 1 and 0), one mid-tour
    // at step 2 having skipped step 1. Outside it: one completed 40 days ago. Tour U: one abandoned at step 0.
    await stack.ownerDb('user_tour_progress').insert([
      progress(people[0]!, org.tourId, { status: 'completed', current_step_index: 2, completed_steps: [0, 1, 2], total_time_seconds: 600, user_rating: 5 }),
      progress(people[1]!, org.tourId, { status: 'completed', current_step_index: 2, completed_steps: [0, 1, 2], total_time_seconds: 300, user_rating: 3 }),
      progress(people[2]!, org.tourId, { status: 'abandoned', current_step_index: 1, completed_steps: [0], total_time_seconds: 120 }),
      progress(people[3]!, org.tourId, { status: 'in_progress', current_step_index: 2, completed_steps: [0], skipped_steps: [1], total_time_seconds: 60 }),
      progress(people[4]!, org.tourId, { status: 'abandoned', current_step_index: 0, total_time_seconds: 0 }),
      progress(people[5]!, org.tourId, { status: 'completed', current_step_index: 2, completed_steps: [0, 1, 2], total_time_seconds: 900, user_rating: 1, started_at: at(-40) }),
      progress(people[6]!, otherTour, { status: 'abandoned', current_step_index: 0, total_time_seconds: 0 }),
    ]);

    // Step events through the API (the aggregates are kept by the insert's trigger), by a member.
    const member = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    const e = (type: string, key: string, extra: Record<string, unknown> = {}) => event(org.tourId, type, { step_key: key, ...extra });
    const batch = {
      events: [
        e('step_viewed', 'step_0'), e('step_viewed', 'step_0'), e('step_viewed', 'step_0'),
        e('step_viewed', 'step_1'), e('step_viewed', 'step_1'),
        e('step_completed', 'step_0', { interaction_time_ms: 2000 }), e('step_completed', 'step_0', { interaction_time_ms: 4000 }),
        e('step_skipped', 'step_1'),
        e('error_encountered', 'step_2'), e('error_encountered', 'step_2'), e('help_requested', 'step_2'),
        e('tooltip_clicked', 'step_0'),
      ],
    };
    expect((await track(member, batch)).body.recorded_events).toBe(12);
    expect((await track(member, batch)).body.recorded_events).toBe(0);
    // Five views 40 days ago, outside the range (written as retention-age history would be).
    await stack.ownerDb('tour_analytics_events').insert(
      Array.from({ length: 5 }, () => ({ user_id: org.memberId, organization_id: org.orgId, tour_id: org.tourId, event_type: 'step_viewed', step_key: 'step_0', step_index: 0, timestamp: at(-40) })),
    );

    // A running A/B test on T: people 0 and 2 saw variant a, 1, 3 and 4 variant b. A draft test is not shown.
    const [test] = await stack.ownerDb('tour_ab_tests')
      .insert({ organization_id: org.orgId, tour_id: org.tourId, test_name: 'Shorter welcome', status: 'running', minimum_sample_size: 2 })
      .returning('id');
    await stack.ownerDb('tour_ab_tests').insert({ organization_id: org.orgId, tour_id: otherTour, test_name: 'Draft', status: 'draft' });
    await stack.ownerDb('tour_ab_assignments').insert(
      (['a', 'b', 'a', 'b', 'b'] as const).map((variant, i) => ({
        organization_id: org.orgId, ab_test_id: test.id, tour_id: org.tourId, variant, subject_hash: stack.ownerDb.raw('tourhub_ab_subject(?::uuid, ?::uuid)', [test.id, people[i]!]),
      })),
    );
  });

  const dashboard = (query: string, token = adminToken) => request(stack.app).get(`/api/tours/analytics/dashboard${query}`).set('Authorization', `Bearer ${token}`);

  it('matches the hand count for the last ten days', async () => {
    const res = await dashboard(`?start_date=${day(-10)}&end_date=${day(0)}`);
    expect(res.status).toBe(200);
    expect(res.body.overview).toEqual({
      total_tours_started: 6,
      completions: 2,
      abandonments: 3,
      completion_rate: 33.33,
      average_duration_minutes: 3, // (10 + 5 + 2 + 1 + 0 + 0) / 6
      user_satisfaction: 4,
      ratings: 2,
    });
    expect(res.body.tour_performance).toEqual([
      { tour_id: org.tourId, name: 'Welcome to your wedding dashboard', starts: 5, completions: 2, abandonments: 2, completion_rate: 40, abandonment_rate: 40, average_rating: 4, average_duration_minutes: 3.6 },
      { tour_id: otherTour, name: expect.any(String), starts: 1, completions: 0, abandonments: 1, completion_rate: 0, abandonment_rate: 100, average_rating: null, average_duration_minutes: 0 },
    ]);
    const steps = res.body.step_analytics.filter((s: { tour_id: string }) => s.tour_id === org.tourId);
    expect(steps).toEqual([
      { tour_id: org.tourId, step_index: 0, step_key: 'step_0', title: 'Step 0', views: 3, completions: 2, skips: 0, time_spent_avg: 3, user_issues: 0, help_requests: 0, reached: 5, dropped_off: 1, drop_off_rate: 20 },
      { tour_id: org.tourId, step_index: 1, step_key: 'step_1', title: 'Step 1', views: 2, completions: 0, skips: 1, time_spent_avg: null, user_issues: 0, help_requests: 0, reached: 4, dropped_off: 1, drop_off_rate: 25 },
      { tour_id: org.tourId, step_index: 2, step_key: 'step_2', title: 'Step 2', views: 0, completions: 0, skips: 0, time_spent_avg: null, user_issues: 2, help_requests: 1, reached: 3, dropped_off: 0, drop_off_rate: 0 },
    ]);
    expect(res.body.step_analytics.filter((s: { tour_id: string }) => s.tour_id === otherTour).map((s: { reached: number; drop_off_rate: number }) => [s.reached, s.drop_off_rate])).toEqual([[1, 100], [0, 0], [0, 0]]);
    expect(res.body.ab_test_results).toHaveLength(1);
    const [ab] = res.body.ab_test_results;
    expect(ab).toMatchObject({
      test_name: 'Shorter welcome',
      status: 'running',
      variants: [
        { variant: 'a', sample_size: 2, conversions: 1, conversion_rate: 50, average_time: 6, user_satisfaction: 5 },
        { variant: 'b', sample_size: 3, conversions: 1, conversion_rate: 33.33, average_time: 2, user_satisfaction: 3 },
      ],
      recommendation: 'no_significant_difference',
    });
    expect(ab.statistical_significance).toBeCloseTo(0.29, 2);
  });

  it('without a range counts everything; with a tour, only that tour', async () => {
    const all = await dashboard('');
    expect(all.body.overview).toMatchObject({ total_tours_started: 7, completions: 3 });
    expect(all.body.step_analytics.find((s: { step_key: string; tour_id: string }) => s.tour_id === org.tourId && s.step_key === 'step_0').views).toBe(8);
    const one = await dashboard(`?tour_id=${otherTour}&start_date=${day(-10)}`);
    expect(one.status).toBe(200);
    expect(one.body.overview.total_tours_started).toBe(1);
    expect(one.body.tour_performance.map((t: { tour_id: string }) => t.tour_id)).toEqual([otherTour]);
    expect(new Set(one.body.step_analytics.map((s: { tour_id: string }) => s.tour_id))).toEqual(new Set([otherTour]));
    expect(one.body.ab_test_results).toEqual([]);
  });

  it('shows an admin nothing of another organisation', async () => {
    const other = await createOrg(stack.ownerDb);
    const token = await tokenFor(stack, { orgId: other.orgId, userId: other.adminId, role: 'admin' });
    const res = await dashboard(`?tour_id=${org.tourId}`, token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ overview: { total_tours_started: 0 }, tour_performance: [], step_analytics: [], ab_test_results: [] });
  });

  it.each([
    ['a date that is not YYYY-MM-DD', '?start_date=yesterday', 'start_date'],
    ['a date that does not exist', '?start_date=2026-02-30', 'start_date'],
    ['a month 13', '?end_date=2026-13-01', 'end_date'],
    ['a start after the end', `?start_date=${day(0)}&end_date=${day(-1)}`, 'end_date'],
    ['a tour id that is not a UUID', '?tour_id=42', 'tour_id'],
    ['an unknown parameter', '?colour=blue', ''],
  ])('refuses %s with 400', async (_name, query, path) => {
    const res = await dashboard(query);
    expectEnvelope(res, 400, 'validation_error');
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual([path]);
  });

  it('is for admins only', async () => {
    const member = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    expectEnvelope(await dashboard('', member), 403, 'admin_required');
  });
});
