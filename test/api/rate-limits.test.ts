import type { Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { createTokenVerifier } from '../../api/middleware/auth';
import { appDatabaseUrl, loadConfig } from '../../config';
import { registry } from '../../connectors/registry';
import { createDb, type Db } from '../../db/knex';
import { WorkflowServiceError, type TourWorkflows } from '../../services/temporal';
import { testOutbound } from '../support/connectors';
import { TEST_JWT_SECRET } from '../support/constants';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { startStack, testSecretBox, tokenFor, type Stack } from '../support/stack';

let stack: Stack;
/** A second API process's own pool and limiter over the same database. */
let otherDb: Db;

/** Another API process: its own app, pool and limiter objects, the same Postgres and Temporal. */
function secondApi(tours: TourWorkflows = stack.tours, rateLimits = stack.config.rateLimits): Express {
  return createApp({
    db: otherDb,
    tours,
    replays: stack.replays,
    rateLimits,
    verifier: createTokenVerifier({ secret: TEST_JWT_SECRET, issuer: stack.config.jwt.issuer, audience: stack.config.jwt.audience }),
    logger: pino({ level: 'silent' }),
    ...stack.lifecycle,
    integrations: { box: testSecretBox(), registry, oauthClients: {}, publicUrl: 'http://tourhub.test', connectorTimeoutMs: 2000, outbound: testOutbound() },
  });
}

beforeAll(async () => {
  // The product's figures: what a deployment gets without setting anything.
  const defaults = loadConfig({}).rateLimits.perMinute;
  stack = await startStack({
    config: { RATE_LIMIT_PROGRESS_PER_MINUTE: String(defaults.progress), RATE_LIMIT_STARTS_PER_MINUTE: String(defaults.start) },
  });
  otherDb = createDb(appDatabaseUrl(stack.config), { poolMax: 4 });
});

afterAll(async () => {
  await otherDb?.destroy();
  await stack?.close();
});

async function started(org: OrgFixture, token: string, app: Express = stack.app): Promise<string> {
  const res = await request(app).post(`/api/tours/${org.tourId}/start`).set('Authorization', `Bearer ${token}`).send({});
  expect(res.status).toBe(201);
  return res.body.progress_id;
}

/** Back and forth on a three-step tour: every move is accepted and the tour never ends. */
const move = (i: number) => ({ action: i % 2 === 0 ? 'next_step' : 'previous_step' });

describe('per-user rate limits', () => {
  it('are the seed\'s 10 progress updates and 5 starts a minute by default', () => {
    expect(loadConfig({}).rateLimits.perMinute).toEqual({ progress: 10, start: 5 });
  });

  it('answers the 11th progress update in a minute with 429 rate_limited, Retry-After and the RateLimit fields, and changes nothing', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 3 });
    const token = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    const progressId = await started(org, token);
    const put = (i: number) => request(stack.app).put(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${token}`).send(move(i));
    for (let i = 0; i < 10; i++) {
      const res = await put(i);
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-policy']).toBe('"progress";q=10;w=60');
      expect(res.headers['ratelimit']).toMatch(new RegExp(`^"progress";r=${9 - i};t=\\d+$`));
    }
    const refused = await put(10);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'rate_limited', details: { policy: 'progress', limit: 10, window_seconds: 60 } });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.body.error.details.retry_after_seconds).toBe(retryAfter);
    expect(refused.headers['ratelimit']).toMatch(/^"progress";r=0;t=\d+$/);
    // Nothing moved: the tour is where the tenth update left it.
    const progress = await stack.ownerDb('user_tour_progress').where({ id: progressId }).first();
    expect(progress).toMatchObject({ version: 11, current_step_index: 0 });
    // Another user of the same organisation has a count of their own.
    const otherToken = await tokenFor(stack, { orgId: org.orgId, userId: org.otherMemberId });
    const otherProgress = await started(org, otherToken);
    await request(stack.app).put(`/api/tours/progress/${otherProgress}`).set('Authorization', `Bearer ${otherToken}`).send(move(0)).expect(200);
  });

  it('counts across API processes: a second process sharing the database refuses the 11th update', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 3 });
    const token = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    const other = secondApi();
    const progressId = await started(org, token);
    const put = (app: Express, i: number) => request(app).put(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${token}`).send(move(i));
    for (let i = 0; i < 10; i++) expect((await put(i % 2 === 0 ? stack.app : other, i)).status).toBe(200);
    const refused = await put(other, 10);
    expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 429, code: 'rate_limited' });
    expect((await put(stack.app, 10)).status).toBe(429);
    const [row] = await stack.ownerDb('api_rate_limits').where({ key: `progress:${org.orgId}:${org.memberId}` });
    expect(row).toMatchObject({ points: 12 });
  });

  it('answers the 6th start in a minute with 429, and a start is counted apart from moves', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 3 });
    const token = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    const progressId = await started(org, token);
    for (let i = 0; i < 4; i++) {
      const again = await request(stack.app).post(`/api/tours/${org.tourId}/start`).set('Authorization', `Bearer ${token}`).send({});
      expect(again.status).toBe(200);
      expect(again.headers['ratelimit-policy']).toBe('"start";q=5;w=60');
    }
    const refused = await request(stack.app).post(`/api/tours/${org.tourId}/start`).set('Authorization', `Bearer ${token}`).send({ restart: true });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'rate_limited', details: { policy: 'start', limit: 5 } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    await request(stack.app).put(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${token}`).send(move(0)).expect(200);
  });

  it('counts nothing and sends no fields when a deployment sets a limit to 0', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 3 });
    const token = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    const unlimited = secondApi(stack.tours, { perMinute: { progress: 0, start: 0 } });
    const progressId = await started(org, token, unlimited);
    for (let i = 0; i < 12; i++) {
      const res = await request(unlimited).put(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${token}`).send(move(i));
      expect({ status: res.status, field: res.headers['ratelimit'] }).toEqual({ status: 200, field: undefined });
    }
    expect(await stack.ownerDb('api_rate_limits').where('key', 'like', `%:${org.orgId}:%`)).toEqual([]);
  });

  it('gives the point back when the server fails the request, so a client retrying through an outage is not locked out', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 3 });
    const token = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    const progressId = await started(org, token);
    const unavailable: TourWorkflows = {
      ...stack.tours,
      advance: async () => {
        throw new WorkflowServiceError('temporal_unavailable', 'The workflow service is unavailable; retry shortly');
      },
    };
    const outage = secondApi(unavailable);
    for (let i = 0; i < 12; i++) {
      const res = await request(outage).put(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${token}`).send(move(0));
      expect({ status: res.status, code: res.body.error.code, retryAfter: res.headers['retry-after'] }).toEqual({ status: 503, code: 'temporal_unavailable', retryAfter: '2' });
    }
    // The point comes back after the answer is sent: wait until the count is back to nothing.
    const key = `progress:${org.orgId}:${org.memberId}`;
    for (let deadline = Date.now() + 5000; ; await new Promise((r) => setTimeout(r, 20))) {
      const [row] = await stack.ownerDb('api_rate_limits').where({ key });
      if (row.points === 0) break;
      if (Date.now() > deadline) throw new Error(`the failed updates still count ${row.points} points`);
    }
    await request(stack.app).put(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${token}`).send(move(0)).expect(200);
  });
});
