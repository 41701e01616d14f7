import request from 'supertest';
import { createOrg, addTour, type OrgFixture } from '../support/fixtures';
import pino from 'pino';
import { createApp } from '../../api/app';
import { createTokenVerifier } from '../../api/middleware/auth';
import { registry } from '../../connectors/registry';
import type { TourWorkflows } from '../../services/temporal';
import { tourWorkflowId, type AdvanceTourArgs } from '../../workflows/tour-lifecycle/messages';
import { TEST_JWT_SECRET } from '../support/constants';
import { startStack, testSecretBox, tokenFor, type Stack } from '../support/stack';
import { testOutbound } from '../support/connectors';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack.close();
});

async function memberToken(org: OrgFixture, userId = org.memberId): Promise<string> {
  return tokenFor(stack.config, { orgId: org.orgId, userId });
}

async function startTour(org: OrgFixture, token: string): Promise<string> {
  const res = await request(stack.app)
    .post(`/api/tours/${org.tourId}/start`)
    .set('Authorization', `Bearer ${token}`)
    .send({ device_type: 'desktop', viewport_size: { width: 1280, height: 800 } });
  expect(res.status).toBe(201);
  return res.body.progress_id as string;
}

function put(progressId: string, token: string, body: unknown) {
  return request(stack.app).put(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${token}`).send(body as object);
}

async function storedProgress(progressId: string) {
  return stack.ownerDb('user_tour_progress').where({ id: progressId }).first();
}

function expectEnvelope(res: request.Response, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.details).toBeDefined();
}

describe('tours API', () => {
  it('lists the organisation\'s active tours with the caller\'s progress', async () => {
    const org = await createOrg(stack.ownerDb);
    await addTour(stack.ownerDb, org.orgId, { audience: ['photographers'], phase: 'planning' });
    const token = await memberToken(org);
    const all = await request(stack.app).get('/api/tours').set('Authorization', `Bearer ${token}`);
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(2);
    expect(all.body.has_active_tour).toBe(false);

    const couples = await request(stack.app).get('/api/tours?audience=couples&wedding_phase=engagement').set('Authorization', `Bearer ${token}`);
    expect(couples.body.tours.map((t: { id: string }) => t.id)).toEqual([org.tourId]);
    expect(couples.body.tours[0]).toMatchObject({ total_steps: 5, progress: null, target_audience: ['couples'] });

    await startTour(org, token);
    const after = await request(stack.app).get('/api/tours').set('Authorization', `Bearer ${token}`);
    expect(after.body.has_active_tour).toBe(true);
    expect(after.body.tours.find((t: { id: string }) => t.id === org.tourId).progress).toMatchObject({ status: 'in_progress', current_step_index: 0 });
  });

  it('takes a tour from start to completion and keeps every step in Postgres', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 3 });
    const token = await memberToken(org);
    const progressId = await startTour(org, token);

    const detail = await request(stack.app).get(`/api/tours/${org.tourId}`).set('Authorization', `Bearer ${token}`);
    expect(detail.status).toBe(200);
    expect(detail.body.tour.steps).toHaveLength(3);
    expect(detail.body.user_progress).toMatchObject({ id: progressId, status: 'in_progress', version: 1 });

    const first = await put(progressId, token, { action: 'next_step', step_index: 0, interaction_time_ms: 2000 });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      progress: { current_step_index: 1, completed_steps: [0], version: 2 },
      next_step: { step_key: 'step_1' },
      tour_completed: false,
      celebration_trigger: false,
    });
    await put(progressId, token, { action: 'skip_step', step_key: 'step_1' }).expect(200);
    const done = await put(progressId, token, {
      action: 'complete_tour',
      expected_version: 3,
      user_feedback: { rating: 5, feedback: 'Lovely', was_helpful: true },
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ tour_completed: true, celebration_trigger: true, next_step: null });

    const row = await storedProgress(progressId);
    expect(row).toMatchObject({
      status: 'completed',
      version: 4,
      completed_steps: [0, 2],
      skipped_steps: [1],
      user_rating: 5,
      feedback: 'Lovely',
      was_helpful: true,
      total_time_seconds: 2,
      device_type: 'desktop',
    });
    const events = await stack.ownerDb('tour_analytics_events').where({ progress_id: progressId }).orderBy('event_key').pluck('event_type');
    expect(events).toEqual(
      expect.arrayContaining(['tour_started', 'step_completed', 'step_skipped', 'tour_completed', 'feedback_submitted']),
    );

    const got = await request(stack.app).get(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${token}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ progress: { status: 'completed', version: 4 }, remaining_steps: 0, completion_percentage: 100 });
  });

  it('returns the running progress when a started tour is started again, and restarts a finished one only on request', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 2 });
    const token = await memberToken(org);
    const progressId = await startTour(org, token);
    const again = await request(stack.app).post(`/api/tours/${org.tourId}/start`).set('Authorization', `Bearer ${token}`).send({});
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ progress_id: progressId, progress: { version: 1 } });

    await put(progressId, token, { action: 'complete_tour' }).expect(200);
    const refused = await request(stack.app).post(`/api/tours/${org.tourId}/start`).set('Authorization', `Bearer ${token}`).send({});
    expectEnvelope(refused, 409, 'tour_already_finished');
    const restarted = await request(stack.app)
      .post(`/api/tours/${org.tourId}/start`)
      .set('Authorization', `Bearer ${token}`)
      .send({ restart: true });
    expect(restarted.status).toBe(201);
    expect(restarted.body).toMatchObject({ progress_id: progressId, progress: { status: 'in_progress', current_step_index: 0, version: 3 } });
  });

  it('resumes an abandoned tour where it was left', async () => {
    const org = await createOrg(stack.ownerDb);
    const token = await memberToken(org);
    const progressId = await startTour(org, token);
    await put(progressId, token, { action: 'next_step' }).expect(200);
    await put(progressId, token, { action: 'abandon_tour' }).expect(200);
    const refused = await put(progressId, token, { action: 'next_step' });
    expectEnvelope(refused, 409, 'tour_not_started');
    const resumed = await request(stack.app).post(`/api/tours/${org.tourId}/start`).set('Authorization', `Bearer ${token}`).send({});
    expect(resumed.body.progress).toMatchObject({ status: 'in_progress', current_step_index: 1, version: 4 });
  });

  describe('bad input gets a 4xx envelope and changes nothing', () => {
    let org: OrgFixture;
    let token: string;
    let progressId: string;

    beforeAll(async () => {
      org = await createOrg(stack.ownerDb, { steps: 3 });
      token = await memberToken(org);
      progressId = await startTour(org, token);
      await put(progressId, token, { action: 'next_step' }).expect(200);
    });

    async function expectUnchanged(): Promise<void> {
      const row = await storedProgress(progressId);
      expect(row).toMatchObject({ version: 2, current_step_index: 1, status: 'in_progress' });
    }

    const cases: [string, (r: request.Test) => request.Test, number, string][] = [
      ['malformed JSON', (r) => r.set('Content-Type', 'application/json').send('{"action": "next_step"'), 400, 'malformed_json'],
      ['an unknown field', (r) => r.send({ action: 'next_step', hacked: true }), 400, 'validation_error'],
      ['a wrong type', (r) => r.send({ action: 'next_step', step_index: 'one' }), 400, 'validation_error'],
      ['an unknown action', (r) => r.send({ action: 'teleport' }), 400, 'validation_error'],
      ['a missing action', (r) => r.send({}), 400, 'validation_error'],
      ['a rating of 9', (r) => r.send({ action: 'next_step', user_feedback: { rating: 9 } }), 400, 'validation_error'],
      ['a form body', (r) => r.type('form').send('action=next_step'), 415, 'unsupported_media_type'],
      ['a step index out of range', (r) => r.send({ action: 'next_step', step_index: 7 }), 422, 'step_index_out_of_range'],
      ['a step index that is not the current step', (r) => r.send({ action: 'next_step', step_index: 0 }), 409, 'step_mismatch'],
      ['an unknown step key', (r) => r.send({ action: 'next_step', step_key: 'nope' }), 422, 'unknown_step_key'],
      ['a stale expected version', (r) => r.send({ action: 'next_step', expected_version: 1 }), 409, 'version_conflict'],
      ['a subscription interest on a skip', (r) => r.send({ action: 'skip_step', subscription_interest: { plan: 'premium' } }), 422, 'subscription_interest_without_completion'],
      ['a subscription interest on an abandonment', (r) => r.send({ action: 'abandon_tour', subscription_interest: { plan: 'premium' } }), 422, 'subscription_interest_without_completion'],
      ['an empty subscription plan', (r) => r.send({ action: 'complete_tour', subscription_interest: { plan: ' ' } }), 400, 'validation_error'],
      ['a subscription plan of 51 characters', (r) => r.send({ action: 'complete_tour', subscription_interest: { plan: 'p'.repeat(51) } }), 400, 'validation_error'],
      ['an unknown field in the subscription interest', (r) => r.send({ action: 'complete_tour', subscription_interest: { plan: 'premium', price: 10 } }), 400, 'validation_error'],
    ];

    it.each(cases)('%s', async (_name, send, status, code) => {
      const res = await send(request(stack.app).put(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${token}`));
      expectEnvelope(res, status, code);
      await expectUnchanged();
    });

    it('a stale version gets the current progress in its details', async () => {
      const res = await put(progressId, token, { action: 'next_step', expected_version: 0 });
      expectEnvelope(res, 409, 'version_conflict');
      expect(res.body.error.details).toMatchObject({ current_version: 2, current_progress: { version: 2, current_step_index: 1 } });
    });

    it('a progress id that is not a UUID', async () => {
      expectEnvelope(await put('not-a-uuid', token, { action: 'next_step' }), 400, 'validation_error');
    });

    it('an unknown progress id', async () => {
      expectEnvelope(await put('00000000-0000-4000-8000-000000000000', token, { action: 'next_step' }), 404, 'not_found');
    });

    it('an unknown query parameter and an unknown audience', async () => {
      expectEnvelope(await request(stack.app).get('/api/tours?colour=blue').set('Authorization', `Bearer ${token}`), 400, 'validation_error');
      expectEnvelope(await request(stack.app).get('/api/tours?audience=dogs').set('Authorization', `Bearer ${token}`), 400, 'validation_error');
    });

    it('an unknown route', async () => {
      expectEnvelope(await request(stack.app).get('/api/nothing-here').set('Authorization', `Bearer ${token}`), 404, 'route_not_found');
    });

    it('a missing token', async () => {
      expectEnvelope(await request(stack.app).put(`/api/tours/progress/${progressId}`).send({ action: 'next_step' }), 401, 'missing_token');
      await expectUnchanged();
    });

    it('an expired token', async () => {
      const expired = await tokenFor(stack.config, { orgId: org.orgId, userId: org.memberId }, { ttlSeconds: -60 });
      expectEnvelope(await put(progressId, expired, { action: 'next_step' }), 401, 'token_expired');
      await expectUnchanged();
    });

    it('a badly signed token', async () => {
      const forged = await tokenFor(stack.config, { orgId: org.orgId, userId: org.memberId }, { secret: 'another-secret-that-is-also-long-enough-to-sign' });
      expectEnvelope(await put(progressId, forged, { action: 'next_step' }), 401, 'invalid_token');
      expectEnvelope(await put(progressId, 'not.a.jwt', { action: 'next_step' }), 401, 'invalid_token');
      await expectUnchanged();
    });

    it('another organisation\'s token', async () => {
      const other = await createOrg(stack.ownerDb);
      const outsider = await tokenFor(stack.config, { orgId: other.orgId, userId: org.memberId });
      expectEnvelope(await put(progressId, outsider, { action: 'next_step' }), 404, 'not_found');
      expectEnvelope(await request(stack.app).get(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${outsider}`), 404, 'not_found');
      await expectUnchanged();
    });

    it('another member of the same organisation', async () => {
      const neighbour = await memberToken(org, org.otherMemberId);
      expectEnvelope(await put(progressId, neighbour, { action: 'next_step' }), 404, 'not_found');
      await expectUnchanged();
    });
  });

  it('answers an action on a completed tour with 409 and leaves it completed', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 2 });
    const token = await memberToken(org);
    const progressId = await startTour(org, token);
    await put(progressId, token, { action: 'complete_tour' }).expect(200);
    for (const action of ['next_step', 'previous_step', 'skip_step', 'abandon_tour', 'complete_tour']) {
      const res = await put(progressId, token, { action });
      expectEnvelope(res, 409, 'tour_already_finished');
      expect(res.body.error.details.current_progress).toMatchObject({ status: 'completed' });
    }
    expect(await storedProgress(progressId)).toMatchObject({ status: 'completed', version: 2 });
  });

  it('lets exactly one of two concurrent PUTs with the same expected version through', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 5 });
    const token = await memberToken(org);
    const progressId = await startTour(org, token);
    const [a, b] = await Promise.all([
      put(progressId, token, { action: 'next_step', expected_version: 1 }),
      put(progressId, token, { action: 'next_step', expected_version: 1 }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.error).toMatchObject({ code: 'version_conflict', details: { current_version: 2 } });
    expect(await storedProgress(progressId)).toMatchObject({ version: 2, current_step_index: 1, completed_steps: [0] });
  });

  it('serialises a burst of concurrent moves without losing or doubling one', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 12 });
    const token = await memberToken(org);
    const progressId = await startTour(org, token);
    const results = await Promise.all(Array.from({ length: 8 }, () => put(progressId, token, { action: 'next_step' })));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    const versions = results.map((r) => r.body.progress.version).sort((x: number, y: number) => x - y);
    expect(versions).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await storedProgress(progressId)).toMatchObject({ version: 9, current_step_index: 8 });
  });

  it('carries on from Postgres when an operator terminated the tour\'s workflow mid-tour', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 4 });
    const token = await memberToken(org);
    const progressId = await startTour(org, token);
    await put(progressId, token, { action: 'next_step' }).expect(200);
    await stack.client.workflow.getHandle(tourWorkflowId(org.orgId, org.memberId, org.tourId)).terminate('operator test');
    const next = await put(progressId, token, { action: 'next_step', expected_version: 2 });
    expect(next.status).toBe(200);
    expect(next.body.progress).toMatchObject({ current_step_index: 2, completed_steps: [0, 1], version: 3 });
  });

  it('never refuses a move from another API instance\'s stale memory of the tour', async () => {
    // Two API processes over one database and one Temporal: each has its own cache.
    const other = createApp({
      db: stack.appDb,
      tours: stack.tours,
      replays: stack.replays,
      sync: stack.sync,
      verifier: createTokenVerifier({ secret: TEST_JWT_SECRET, issuer: stack.config.jwt.issuer, audience: stack.config.jwt.audience }),
      logger: pino({ level: 'silent' }),
      integrations: { box: testSecretBox(), registry, oauthClients: {}, publicUrl: 'http://tourhub.test', connectorTimeoutMs: 2000, outbound: testOutbound() },
    });
    const org = await createOrg(stack.ownerDb, { steps: 3 });
    const token = await memberToken(org);
    const progressId = await startTour(org, token);
    await put(progressId, token, { action: 'complete_tour' }).expect(200); // instance 1 now remembers "completed"
    const restarted = await request(other).post(`/api/tours/${org.tourId}/start`).set('Authorization', `Bearer ${token}`).send({ restart: true });
    expect(restarted.status).toBe(201);
    const next = await put(progressId, token, { action: 'next_step' });
    expect(next.status).toBe(200);
    expect(next.body.progress).toMatchObject({ status: 'in_progress', current_step_index: 1 });
  });

  it('passes a subscription interest on the completing move to the tour workflow', async () => {
    const sent: AdvanceTourArgs[] = [];
    const recording: TourWorkflows = {
      ...stack.tours,
      advance(key, args, summary, opts) {
        sent.push(args);
        return stack.tours.advance(key, args, summary, opts);
      },
    };
    const app = createApp({
      db: stack.appDb,
      tours: recording,
      replays: stack.replays,
      sync: stack.sync,
      verifier: createTokenVerifier({ secret: TEST_JWT_SECRET, issuer: stack.config.jwt.issuer, audience: stack.config.jwt.audience }),
      logger: pino({ level: 'silent' }),
      integrations: { box: testSecretBox(), registry, oauthClients: {}, publicUrl: 'http://tourhub.test', connectorTimeoutMs: 2000, outbound: testOutbound() },
    });
    const org = await createOrg(stack.ownerDb, { steps: 2 });
    const token = await memberToken(org);
    const progressId = await startTour(org, token);
    const move = (body: object) => request(app).put(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${token}`).send(body);
    await move({ action: 'next_step' }).expect(200);
    const done = await move({ action: 'next_step', subscription_interest: { plan: 'premium' } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ tour_completed: true, progress: { status: 'completed' } });
    expect(sent.map((a) => a.subscriptionInterest)).toEqual([undefined, { plan: 'premium' }]);
  });

  it('serves health and readiness without a token', async () => {
    await request(stack.app).get('/healthz').expect(200, { status: 'ok' });
    const ready = await request(stack.app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ postgres: 'ok', temporal: 'ok' });
  });
});
