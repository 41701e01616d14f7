import request from 'supertest';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { createOutboundGuard, type OutboundGuard } from '../../connectors/outbound';
import { createWebhookRelay, runWebhookRelay } from '../../services/webhook-relay';
import { createWorker } from '../../worker';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { startHttpsReceiver, type HttpsReceiver } from '../support/https-receiver';
import { quietRuntime, startStack, testSecretBox, tokenFor, type Stack } from '../support/stack';

// Retries within a test's patience; the lane and relay are the product's. A subscription pauses only
// after 2 s and 12 failures in a row, so the recovering receiver (8 failures) is never paused.
const CONFIG = {
  WEBHOOK_RETRY_INITIAL_INTERVAL: '100ms',
  WEBHOOK_RETRY_BACKOFF: '2',
  WEBHOOK_RETRY_MAX_INTERVAL: '300ms',
  WEBHOOK_RETRY_MAX_TIME: '2m',
  WEBHOOK_PAUSE_AFTER: '2s',
  WEBHOOK_PAUSE_MIN_FAILURES: '12',
  WEBHOOK_LANE_LINGER: '2s',
  WEBHOOK_TIMEOUT: '3s',
  OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1/32',
};

let stack: Stack;
let worker: Worker;
let workerRun: Promise<void>;
let connection: NativeConnection;
let relay: { stop(): Promise<void> };
const receivers: HttpsReceiver[] = [];
let outbound: OutboundGuard;
let ca: string;

beforeAll(async () => {
  // The certificate the receivers present, trusted by this worker's outbound guard only.
  const probe = await startHttpsReceiver(() => 200);
  ca = probe.ca;
  await probe.close();
  outbound = createOutboundGuard({ allowedNetworks: ['127.0.0.1/32'], extraCa: [ca] });
  stack = await startStack({ worker: false, config: CONFIG, outbound });
  quietRuntime();
  connection = await NativeConnection.connect({ address: stack.config.temporal.address });
  worker = await createWorker({ config: stack.config, db: stack.workerDb, box: testSecretBox(), connection, outbound, workflowBundle: { codePath: stack.config.temporal.workflowBundle! } });
  workerRun = worker.run();
  relay = runWebhookRelay(createWebhookRelay({ db: stack.workerDb, client: stack.client, taskQueue: stack.config.temporal.taskQueue, config: stack.config.webhooks, publicUrl: stack.config.publicUrl, logger: pino({ level: 'silent' }) }), {
    relayIntervalMs: 50,
    channelSweepMs: 3600_000,
    logger: pino({ level: 'silent' }),
  });
}, 120_000);

afterAll(async () => {
  await relay.stop();
  worker.shutdown();
  await workerRun;
  await connection.close();
  await Promise.all(receivers.map((r) => r.close()));
  await stack.close();
  await outbound.close();
});

const bearer = async (org: OrgFixture, userId: string, role: 'admin' | 'member' = 'member') => `Bearer ${await tokenFor(stack, { orgId: org.orgId, userId, role })}`;

async function receiver(answer: Parameters<typeof startHttpsReceiver>[0]) {
  const r = await startHttpsReceiver(answer);
  receivers.push(r);
  return r;
}

async function subscribe(org: OrgFixture, url: string, events: string[] = ['tour.*', 'feedback.submitted']) {
  const res = await request(stack.app).post('/api/webhooks/subscriptions').set('Authorization', await bearer(org, org.adminId, 'admin')).send({ url, events });
  expect(res.status).toBe(201);
  return { id: res.body.subscription.id as string, secret: res.body.secret as string };
}

/** A couple takes the org's tour through the API: start, then complete with feedback (or abandon). */
async function takeTour(org: OrgFixture, userId: string, end: 'complete' | 'abandon') {
  await stack.ownerDb('organization_members').insert({ organization_id: org.orgId, user_id: userId, role: 'member' }).onConflict(['organization_id', 'user_id']).ignore();
  const auth = await bearer(org, userId);
  const started = await request(stack.app).post(`/api/tours/${org.tourId}/start`).set('Authorization', auth).send({});
  expect(started.status).toBe(201);
  const progressId = started.body.progress_id ?? started.body.progress.id;
  const move = end === 'complete' ? { action: 'complete_tour', user_feedback: { rating: 4, was_helpful: true } } : { action: 'abandon_tour' };
  expect((await request(stack.app).put(`/api/tours/progress/${progressId}`).set('Authorization', auth).send(move)).status).toBe(200);
  return progressId as string;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const verified = (secret: string, r: { headers: Record<string, string>; body: string }) => new Webhook(secret).verify(r.body, r.headers) as { type: string; data: Record<string, unknown> };

describe('outbound webhooks', () => {
  it('delivers every event to a receiver that fails for a while, in order per tour, each verifiable with the secret', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 2 });
    // The first 8 requests fail (503 or a dropped answer), then everything succeeds.
    const hook = await receiver(({ index }) => (index < 8 ? 503 : 200));
    const { secret } = await subscribe(org, `${hook.url}/tourhub`);
    const couples = ['c1000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000002', 'c1000000-0000-4000-8000-000000000003'];
    const progress = await Promise.all(couples.map((u, i) => takeTour(org, u, i === 2 ? 'abandon' : 'complete')));
    const expected: Record<string, string[]> = {
      [progress[0]!]: ['tour.started', 'tour.completed', 'feedback.submitted'],
      [progress[1]!]: ['tour.started', 'tour.completed', 'feedback.submitted'],
      [progress[2]!]: ['tour.started', 'tour.abandoned'],
    };
    const total = Object.values(expected).flat().length;
    // Answered, then recorded: wait for the record, which follows the answer.
    await until('every event delivered', async () => (await stack.ownerDb('webhook_deliveries').where({ organization_id: org.orgId, status: 'succeeded' })).length === total);

    // Every request, failed ones included, is signed; each verifies with the subscription's secret.
    const seen = hook.received.map((r) => ({ id: r.headers['webhook-id']!, status: r.status, event: verified(secret, r) }));
    const delivered = seen.filter((s) => s.status === 200);
    expect(new Set(delivered.map((d) => d.id)).size).toBe(total);
    for (const [progressId, types] of Object.entries(expected)) {
      const ofTour = seen.filter((s) => s.event.data.progress_id === progressId);
      // In order per tour: attempts never go back to an earlier event, and each succeeded once.
      const order = ofTour.map((s) => types.indexOf(s.event.type));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(ofTour.filter((s) => s.status === 200).map((s) => s.event.type)).toEqual(types);
    }
    const completed = delivered.find((d) => d.event.type === 'feedback.submitted')!;
    expect(completed.event.data).toMatchObject({ tour_id: org.tourId, feedback: { rating: 4, was_helpful: true } });
    expect(JSON.stringify(seen.map((s) => s.event))).not.toMatch(/@example\.com/);

    // Logged per attempt: the failures and the success of each delivery.
    const attempts = await stack.ownerDb('webhook_delivery_attempts as a').join('webhook_deliveries as d', 'd.id', 'a.delivery_id').where('d.organization_id', org.orgId);
    expect(attempts.filter((a) => !a.success)).toHaveLength(8);
    expect(attempts.filter((a) => a.success)).toHaveLength(total);
    expect(await stack.ownerDb('webhook_deliveries').where({ organization_id: org.orgId, status: 'succeeded' })).toHaveLength(total);
  });

  it('lets an admin read the attempts and resend a delivery with the same webhook-id', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 1 });
    const hook = await receiver(() => 200);
    const { id } = await subscribe(org, `${hook.url}/again`, ['tour.started']);
    await takeTour(org, 'c2000000-0000-4000-8000-000000000001', 'abandon');
    await until('the delivery, recorded', async () => (await stack.ownerDb('webhook_deliveries').where({ subscription_id: id, status: 'succeeded' })).length === 1);
    expect(hook.received).toHaveLength(1);
    const auth = await bearer(org, org.adminId, 'admin');
    const list = await request(stack.app).get(`/api/webhooks/subscriptions/${id}/deliveries`).set('Authorization', auth);
    expect(list.body.deliveries).toHaveLength(1);
    const delivery = list.body.deliveries[0];
    expect(delivery).toMatchObject({ event_type: 'tour.started', status: 'succeeded', attempts: 1, last_status_code: 200 });
    const detail = await request(stack.app).get(`/api/webhooks/subscriptions/${id}/deliveries/${delivery.id}`).set('Authorization', auth);
    expect(detail.body.attempts).toEqual([expect.objectContaining({ attempt: 1, success: true, status_code: 200, response_excerpt: 'ok' })]);
    const resent = await request(stack.app).post(`/api/webhooks/subscriptions/${id}/deliveries/${delivery.id}/resend`).set('Authorization', auth);
    expect(resent.status).toBe(202);
    await until('the resend, recorded', async () => (await stack.ownerDb('webhook_deliveries').where({ id: delivery.id }).first()).attempts === 2);
    await until('the resend, recorded as sent', async () => (await stack.ownerDb('webhook_deliveries').where({ id: delivery.id }).first()).status === 'succeeded');
    expect(hook.received).toHaveLength(2);
    expect(hook.received[1]!.headers['webhook-id']).toBe(hook.received[0]!.headers['webhook-id']);
    const after = await request(stack.app).get(`/api/webhooks/subscriptions/${id}/deliveries/${delivery.id}`).set('Authorization', auth);
    expect(after.body.delivery).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('pauses a subscription that keeps failing, reports it, and sends what waited once resumed', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 1 });
    let up = false;
    const hook = await receiver(() => (up ? 200 : 500));
    const { id, secret } = await subscribe(org, `${hook.url}/down`, ['tour.*']);
    const watcher = await receiver(() => 200);
    await subscribe(org, `${watcher.url}/alerts`, ['webhook.*']);
    await takeTour(org, 'c3000000-0000-4000-8000-000000000001', 'abandon');
    const paused = await until('the pause', async () => {
      const s = await stack.ownerDb('webhook_subscriptions').where({ id }).first();
      return s.status === 'paused' ? s : undefined;
    });
    expect(paused.paused_reason).toMatch(/every attempt failed/);
    expect(paused.consecutive_failures).toBeGreaterThanOrEqual(12);
    const auth = await bearer(org, org.adminId, 'admin');
    // Reported: in the admins' notifications, and pushed to the organisation's other subscription.
    const notes = await request(stack.app).get('/api/notifications').set('Authorization', auth);
    expect(notes.body.notifications.map((n: { type: string }) => n.type)).toContain('webhook.subscription_paused');
    await until('the report pushed', async () => watcher.received.some((r) => JSON.parse(r.body).type === 'webhook.subscription_paused'));
    expectError(await request(stack.app).post(`/api/webhooks/subscriptions/${id}/deliveries/${(await stack.ownerDb('webhook_deliveries').where({ subscription_id: id }).first()).id}/resend`).set('Authorization', auth), 409, 'subscription_paused');

    const failedSoFar = hook.received.length;
    up = true;
    const resumed = await request(stack.app).patch(`/api/webhooks/subscriptions/${id}`).set('Authorization', auth).send({ status: 'active' });
    expect(resumed.body.subscription).toMatchObject({ status: 'active', consecutive_failures: 0 });
    await until('the waiting events', async () => (await stack.ownerDb('webhook_deliveries').where({ subscription_id: id, status: 'succeeded' })).length === 2);
    expect(hook.received.slice(failedSoFar).map((r) => verified(secret, r).type)).toEqual(['tour.started', 'tour.abandoned']);
  });
});

function expectError(res: request.Response, status: number, code: string) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
}
