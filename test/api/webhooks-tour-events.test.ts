import crypto from 'node:crypto';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { createTokenVerifier } from '../../api/middleware/auth';
import { registry } from '../../connectors/registry';
import { tourSignatureHeader } from '../../services/webhook-signatures';
import { testOutbound } from '../support/connectors';
import { TEST_JWT_SECRET } from '../support/constants';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { startStack, testSecretBox, tokenFor, type Stack } from '../support/stack';
import { postTourEvent, tourEvent } from '../support/webhooks';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack.close();
});

const admin = (org: OrgFixture) => tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });
const member = (org: OrgFixture) => tokenFor(stack, { orgId: org.orgId, userId: org.memberId });

function expectError(res: request.Response, status: number, code: string) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
}

/** An organisation with a signing secret made through the API, and the secret's value. */
async function orgWithSecret(steps = 4) {
  const org = await createOrg(stack.ownerDb, { steps });
  const res = await request(stack.app).post('/api/webhooks/signing-secrets').set('Authorization', `Bearer ${await admin(org)}`).send({});
  expect(res.status).toBe(201);
  expect(res.body.secret).toMatch(/^wss_[\w-]{43}$/);
  return { org, secret: res.body.secret as string, secretId: res.body.signing_secret.id as string };
}

const storedEvents = async (orgId: string) => (await stack.ownerDb('webhook_events').where({ organization_id: orgId, source: 'tour_system' })).length;
const progressOf = (org: OrgFixture) => stack.ownerDb('user_tour_progress').where({ organization_id: org.orgId, user_id: org.memberId, tour_id: org.tourId }).first();

/** Starts the member's tour through a signed tour_started event; returns its progress id. */
async function startViaWebhook(org: OrgFixture, secret: string): Promise<string> {
  const res = await postTourEvent(stack.app, secret, tourEvent({ orgId: org.orgId, userId: org.memberId, tourId: org.tourId, type: 'tour_started', data: { device_type: 'mobile' } }));
  expect(res.status).toBe(200);
  expect(res.body.progress).toMatchObject({ status: 'in_progress', current_step_index: 0, device_type: 'mobile' });
  return res.body.progress.id;
}

describe('POST /api/webhooks/tour-events', () => {
  it('accepts a valid signature, stores the event and moves the tour before answering', async () => {
    const { org, secret } = await orgWithSecret();
    const progressId = await startViaWebhook(org, secret);
    const event = tourEvent({ orgId: org.orgId, userId: org.memberId, tourId: org.tourId, progressId, type: 'step_completed', data: { step_index: 0 } });
    const res = await postTourEvent(stack.app, secret, event);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ received: true, event_id: event.event_id, duplicate: false, progress: { id: progressId, current_step_index: 1, completed_steps: [0] } });
    // Read-your-writes: the move is in Postgres when the answer arrives, and so is the event.
    expect(await progressOf(org)).toMatchObject({ current_step_index: 1 });
    const stored = await stack.ownerDb('webhook_events').where({ organization_id: org.orgId, webhook_id: event.event_id }).first();
    expect(stored).toMatchObject({ source: 'tour_system', event_type: 'step_completed', status: 'processed' });
  });

  it('rejects a wrong signature, an old timestamp and a body changed after signing with 401, storing nothing', async () => {
    const { org, secret } = await orgWithSecret();
    const event = tourEvent({ orgId: org.orgId, userId: org.memberId, tourId: org.tourId, type: 'tour_started' });
    const wrong = await postTourEvent(stack.app, `wss_${crypto.randomBytes(32).toString('base64url')}`, event);
    expectError(wrong, 401, 'invalid_signature');
    expect(wrong.body.error.details).toEqual({ reason: 'mismatch' });
    const old = await postTourEvent(stack.app, secret, event, { atSeconds: Math.floor(Date.now() / 1000) - 301 });
    expectError(old, 401, 'invalid_signature');
    expect(old.body.error.details).toEqual({ reason: 'timestamp_out_of_tolerance' });
    const future = await postTourEvent(stack.app, secret, event, { atSeconds: Math.floor(Date.now() / 1000) + 301 });
    expectError(future, 401, 'invalid_signature');
    const changed = await postTourEvent(stack.app, secret, { ...event, data: { device_type: 'desktop' } }, { signedBody: JSON.stringify(event) });
    expectError(changed, 401, 'invalid_signature');
    const unsigned = await postTourEvent(stack.app, undefined, event);
    expectError(unsigned, 401, 'invalid_signature');
    expect(unsigned.body.error.details).toEqual({ reason: 'missing' });
    const malformed = await postTourEvent(stack.app, undefined, event, { header: 'v1=abc' });
    expect(malformed.body.error.details).toEqual({ reason: 'malformed' });
    // Signed correctly, but for another organisation's body: that organisation's secret decides.
    const other = await orgWithSecret();
    const foreign = await postTourEvent(stack.app, secret, { ...event, organization_id: other.org.orgId });
    expectError(foreign, 401, 'invalid_signature');
    expect(await storedEvents(org.orgId)).toBe(0);
    expect(await progressOf(org)).toBeUndefined();
  });

  it('answers a replayed event id 200 with duplicate: true and no second move', async () => {
    const { org, secret } = await orgWithSecret();
    const progressId = await startViaWebhook(org, secret);
    const event = tourEvent({ orgId: org.orgId, userId: org.memberId, tourId: org.tourId, progressId, type: 'step_completed' });
    expect((await postTourEvent(stack.app, secret, event)).body).toMatchObject({ duplicate: false, progress: { current_step_index: 1 } });
    // The same event again, freshly signed (a sender's retry): received, nothing happens twice.
    const again = await postTourEvent(stack.app, secret, event);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ received: true, duplicate: true, progress: null });
    expect(await progressOf(org)).toMatchObject({ current_step_index: 1, version: 2 });
    expect(await storedEvents(org.orgId)).toBe(2);
  });

  it('gives one effect for the same event sent 50 times at once, across two API processes', async () => {
    const { org, secret } = await orgWithSecret();
    const progressId = await startViaWebhook(org, secret);
    // A second API instance over the same database and Temporal: copies split between the two.
    const other = createApp({
      db: stack.appDb,
      tours: stack.tours,
      replays: stack.replays,
      verifier: createTokenVerifier({ secret: TEST_JWT_SECRET, issuer: stack.config.jwt.issuer, audience: stack.config.jwt.audience }),
      logger: pino({ level: 'silent' }),
      rateLimits: stack.config.rateLimits,
      ...stack.lifecycle,
      integrations: { box: testSecretBox(), registry, oauthClients: {}, publicUrl: 'http://tourhub.test', connectorTimeoutMs: 2000, outbound: testOutbound() },
    });
    const event = tourEvent({ orgId: org.orgId, userId: org.memberId, tourId: org.tourId, progressId, type: 'step_completed' });
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => postTourEvent(i % 2 ? other : stack.app, secret, event)));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(answers.filter((a) => !a.body.duplicate)).toHaveLength(1);
    const row = await progressOf(org);
    expect(row).toMatchObject({ current_step_index: 1, version: 2 });
    expect(row.completed_steps).toEqual([0]);
    expect(await stack.ownerDb('webhook_events').where({ organization_id: org.orgId, webhook_id: event.event_id }).count('* as n').first()).toEqual({ n: 1 });
    const analytics = await stack.ownerDb('tour_analytics_events').where({ progress_id: progressId, event_type: 'step_completed' });
    expect(analytics).toHaveLength(1);
  });

  it('maps the seed events onto moves: skipped, completed with feedback, abandoned', async () => {
    const { org, secret } = await orgWithSecret(3);
    const progressId = await startViaWebhook(org, secret);
    const send = (type: string, data?: Record<string, unknown>) => postTourEvent(stack.app, secret, tourEvent({ orgId: org.orgId, userId: org.memberId, tourId: org.tourId, progressId, type, ...(data ? { data } : {}) }));
    expect((await send('step_skipped', { step_key: 'step_0' })).body.progress).toMatchObject({ skipped_steps: [0], current_step_index: 1 });
    const done = await send('tour_completed', { rating: 5, feedback: 'Lovely', was_helpful: true });
    expect(done.body.progress).toMatchObject({ status: 'completed', user_rating: 5 });
    // A finished tour refuses a move with the state machine's code, and nothing is kept.
    const late = await send('tour_abandoned');
    expectError(late, 409, 'tour_already_finished');
    expect(await storedEvents(org.orgId)).toBe(3);
  });

  it('refuses what it cannot act on with the envelope, storing nothing', async () => {
    const { org, secret } = await orgWithSecret();
    const base = tourEvent({ orgId: org.orgId, userId: org.memberId, tourId: org.tourId, type: 'tour_started' });
    const feedback = await postTourEvent(stack.app, secret, { ...base, event_type: 'user_feedback' });
    expectError(feedback, 422, 'unsupported_tour_event');
    expect(feedback.body.error.details.supported).toContain('step_completed');
    expectError(await postTourEvent(stack.app, secret, { ...base, extra: 1 }), 400, 'validation_error');
    expectError(await postTourEvent(stack.app, secret, { ...base, user_id: 'not-a-uuid' }), 400, 'validation_error');
    expectError(await postTourEvent(stack.app, secret, { ...base, event_id: 'x'.repeat(101) }), 400, 'validation_error');
    expectError(await postTourEvent(stack.app, secret, '{"organization_id": '), 400, 'malformed_json');
    const big = await postTourEvent(stack.app, secret, { ...base, data: { note: 'x'.repeat(70_000) } });
    expectError(big, 413, 'payload_too_large');
    // A progress of another user, or another organisation's tour, is not found: RLS sees the sender's only.
    const other = await createOrg(stack.ownerDb);
    expectError(await postTourEvent(stack.app, secret, { ...base, tour_id: other.tourId }), 404, 'not_found');
    expectError(await postTourEvent(stack.app, secret, { ...base, event_type: 'step_completed', progress_id: crypto.randomUUID() }), 404, 'not_found');
    expect(await storedEvents(org.orgId)).toBe(0);
    expect(await progressOf(org)).toBeUndefined();
  });

  it('answers the seed\'s health check without a token', async () => {
    const res = await request(stack.app).get('/api/webhooks/tour-events');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'healthy', service: 'tour-webhook-processor' });
  });
});

describe('signing secrets', () => {
  it('keeps the replaced secret valid for the grace period, and revoking ends one at once', async () => {
    const { org, secret: first, secretId } = await orgWithSecret();
    const token = await admin(org);
    const rotated = await request(stack.app).post('/api/webhooks/signing-secrets').set('Authorization', `Bearer ${token}`).send({ grace_period_hours: 2 });
    const second = rotated.body.secret as string;
    const event = () => tourEvent({ orgId: org.orgId, userId: org.memberId, tourId: org.tourId, type: 'tour_started' });
    expect((await postTourEvent(stack.app, first, event())).status).toBe(200);
    expect((await postTourEvent(stack.app, second, event())).status).toBe(200);
    const list = await request(stack.app).get('/api/webhooks/signing-secrets').set('Authorization', `Bearer ${token}`);
    expect(list.body.signing_secrets).toHaveLength(2);
    expect(list.body.signing_secrets[0]).toMatchObject({ id: rotated.body.signing_secret.id, expires_at: null });
    const graceEnds = new Date(list.body.signing_secrets[1].expires_at).getTime();
    expect(graceEnds - Date.now()).toBeGreaterThan(110 * 60_000);
    expect(JSON.stringify(list.body)).not.toContain(first.slice(4, 20));

    await request(stack.app).delete(`/api/webhooks/signing-secrets/${secretId}`).set('Authorization', `Bearer ${token}`).expect(204);
    expectError(await postTourEvent(stack.app, first, event()), 401, 'invalid_signature');
    expect((await postTourEvent(stack.app, second, event())).status).toBe(200);
    // A sender mid-rotation may sign with both; either matching is enough.
    const body = JSON.stringify(event());
    const t = Math.floor(Date.now() / 1000);
    const both = `${tourSignatureHeader(first, t, body)},v1=${tourSignatureHeader(second, t, body).split('v1=')[1]}`;
    expect((await postTourEvent(stack.app, undefined, body, { header: both })).status).toBe(200);
  });

  it('is for admins of the organisation only; bad input changes nothing', async () => {
    const { org, secretId } = await orgWithSecret();
    const other = await createOrg(stack.ownerDb);
    const otherAdmin = await admin(other);
    expectError(await request(stack.app).get('/api/webhooks/signing-secrets').set('Authorization', `Bearer ${await member(org)}`), 403, 'admin_required');
    expectError(await request(stack.app).delete(`/api/webhooks/signing-secrets/${secretId}`).set('Authorization', `Bearer ${otherAdmin}`), 404, 'not_found');
    expectError(await request(stack.app).post('/api/webhooks/signing-secrets').set('Authorization', `Bearer ${await admin(org)}`).send({ grace_period_hours: -1 }), 400, 'validation_error');
    expectError(await request(stack.app).post('/api/webhooks/signing-secrets').send({}), 401, 'missing_token');
    expect(await stack.ownerDb('webhook_signing_secrets').where({ organization_id: org.orgId })).toHaveLength(1);
    expect((await request(stack.app).get('/api/webhooks/signing-secrets').set('Authorization', `Bearer ${otherAdmin}`)).body.signing_secrets).toEqual([]);
  });
});
