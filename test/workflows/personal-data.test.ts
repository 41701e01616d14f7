import crypto from 'node:crypto';
import { Context } from '@temporalio/activity';
import { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import request from 'supertest';
import type { DeliveryResult } from '../../activities/deliver';
import { createOutboundGuard, type OutboundGuard } from '../../connectors/outbound';
import type { DeliveryInput } from '../../domain/hub';
import { tourDataConverter } from '../../services/payload-codec';
import { createWebhookRelay, runWebhookRelay } from '../../services/webhook-relay';
import { createWorker } from '../../worker';
import { TOUR_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { providerTaskQueue } from '../../workflows/task-queues';
import { tourWorkflowId } from '../../workflows/tour-lifecycle/messages';
import { webhookLaneId } from '../../workflows/webhook-messages';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { insertTestIntegration } from '../support/hub-rows';
import { startHttpsReceiver, type HttpsReceiver } from '../support/https-receiver';
import { quietRuntime, startStack, testSecretBox, tokenFor, type Stack } from '../support/stack';

/**
 * The acceptance check of personal data in Temporal: a couple with a name, an email and a phone takes a
 * tour to completion with feedback, through the real API and a real worker on Postgres (as the
 * least-privileged role), with CRM, email and SMS integrations whose calls are delivered (one fails with
 * a provider message quoting the email), and with a webhook subscription that hears the tour's events,
 * feedback text included, through its webhook lane workflow (the first attempt refused, so the lane
 * records a failure and retries). Then Temporal's own records of both runs, read by a client without the
 * codec, hold none of it: not the histories (payloads base64-decoded too), not the workflows'
 * descriptions (memo, search attributes, summary), not their current details, not any activity's summary.
 */

const suffix = crypto.randomBytes(3).toString('hex');
const PERSON = {
  email: `zelphira.${suffix}@example.com`,
  firstName: `Zelphira${suffix}`,
  lastName: `Quorrington${suffix}`,
  phone: `+1555${String(crypto.randomInt(1_000_000, 9_999_999))}`,
};
const FEEDBACK = `The seating chart step confused us ${suffix}`;
const NEEDLES = [PERSON.email, PERSON.firstName, PERSON.lastName, PERSON.phone, FEEDBACK];

let stack: Stack;
let org: OrgFixture;
let providers: Worker[] = [];
let running: Promise<void>[] = [];
let native: NativeConnection;
let hook: HttpsReceiver;
let outbound: OutboundGuard;
let relay: { stop(): Promise<void> } | undefined;
const received: { provider: string; input: DeliveryInput }[] = [];

/** Fake providers on the real queues: the CRM and SMS succeed; the email provider quotes the address it refuses, as Mailchimp does. */
async function deliver(input: DeliveryInput): Promise<DeliveryResult> {
  const { taskQueue } = Context.current().info;
  received.push({ provider: taskQueue, input });
  if (taskQueue === providerTaskQueue('mailchimp') && input.action.method === 'upsertSubscriber') {
    const email = (input.action.input as { person: { email: string } }).person.email;
    throw ApplicationFailure.nonRetryable(`${email} is already a list member. Use PUT to insert or update list members.`, 'invalid_request');
  }
  return { reference: `${taskQueue}-${received.length}`, alreadyDelivered: false };
}

beforeAll(async () => {
  // The subscriber refuses the first attempt, then takes everything; it is on loopback over https, so the
  // API (which vets the subscription's address) and the worker (which sends) allow loopback and trust it.
  hook = await startHttpsReceiver(({ index }) => (index === 0 ? 500 : 200));
  outbound = createOutboundGuard({ allowedNetworks: ['127.0.0.1/32'], extraCa: [hook.ca] });
  stack = await startStack({
    worker: false,
    outbound,
    config: { OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1/32', WEBHOOK_RETRY_INITIAL_INTERVAL: '100ms', WEBHOOK_RETRY_MAX_INTERVAL: '300ms', WEBHOOK_LANE_LINGER: '2s' },
  });
  org = await createOrg(stack.ownerDb, { steps: 2 });
  await stack.ownerDb('organization_members')
    .where({ organization_id: org.orgId, user_id: org.memberId })
    .update({ email: PERSON.email, display_name: `${PERSON.firstName} ${PERSON.lastName}`, phone: PERSON.phone });
  const box = testSecretBox();
  await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'tave', category: 'crm' });
  await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'mailchimp', category: 'email' });
  const sms = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'twilio', category: 'sms' });
  await stack.ownerDb('organization_integrations')
    .where({ id: sms })
    .update({ settings: JSON.stringify({ provider: {}, field_mapping: {}, enabled_events: [], routes: { sms_welcome_enabled: true } }) });
  quietRuntime();
  native = await NativeConnection.connect({ address: stack.config.temporal.address });
  // The product's worker (tour and webhook lane workflows, their activities) as the least-privileged role.
  const tours = await createWorker({ config: stack.config, db: stack.workerDb, box, connection: native, outbound, workflowBundle: { codePath: stack.config.temporal.workflowBundle! } });
  providers = [
    tours,
    ...(await Promise.all(
      ['tave', 'mailchimp', 'twilio'].map((p) =>
        Worker.create({ connection: native, taskQueue: providerTaskQueue(p), dataConverter: tourDataConverter(box), activities: { deliver } }),
      ),
    )),
  ];
  running = providers.map((w) => w.run());
  const silent = pino({ level: 'silent' });
  relay = runWebhookRelay(
    createWebhookRelay({ db: stack.workerDb, client: stack.client, taskQueue: stack.config.temporal.taskQueue, config: stack.config.webhooks, publicUrl: stack.config.publicUrl, logger: silent }),
    { relayIntervalMs: 100, channelSweepMs: 3600_000, logger: silent },
  );
});

afterAll(async () => {
  await relay?.stop();
  for (const w of providers) if (w.getState() === 'RUNNING') w.shutdown();
  await Promise.all(running);
  await native?.close();
  await stack.close();
  await hook?.close();
  await outbound?.close();
});

/**
 * What Temporal keeps of a workflow, as read without the codec: its history, its description (memo,
 * search attributes, summary) and its metadata query (current details).
 */
async function rawRecords(raw: Client, workflowId: string) {
  const namespace = stack.config.temporal.namespace;
  const execution = { workflowId };
  const history = JSON.parse(historyToJSON(await raw.workflow.getHandle(workflowId).fetchHistory()));
  const description = await raw.workflowService.describeWorkflowExecution({ namespace, execution });
  const metadata = await raw.workflowService.queryWorkflow({ namespace, execution, query: { queryType: '__temporal_workflow_metadata' } }).catch(() => undefined);
  return { history, description, metadata };
}

/** Every string in a JSON tree, and for each that is base64 the text it decodes to. */
function texts(value: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') {
      out.push(v);
      if (/^[A-Za-z0-9+/_-]{4,}={0,2}$/.test(v)) out.push(Buffer.from(v, 'base64').toString('utf8'), Buffer.from(v, 'base64').toString('latin1'));
    } else if (v instanceof Uint8Array) {
      out.push(Buffer.from(v).toString('utf8'), Buffer.from(v).toString('latin1'));
    } else if (Array.isArray(v)) {
      v.forEach(walk);
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        out.push(k);
        walk(child);
      }
    }
  };
  walk(value);
  return out;
}

function leaks(value: unknown): string[] {
  const all = texts(value);
  return NEEDLES.filter((needle) => all.some((t) => t.includes(needle)));
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('personal data in Temporal', () => {
  it('a completed tour and its webhooks leave no email, name, phone or feedback in the raw histories, descriptions or details', async () => {
    const admin = await tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });
    const subscribed = await request(stack.app)
      .post('/api/webhooks/subscriptions')
      .set('Authorization', `Bearer ${admin}`)
      .send({ url: `${hook.url}/tourhub`, events: ['tour.*', 'feedback.submitted'] });
    expect(subscribed.status).toBe(201);
    const subscriptionId = subscribed.body.subscription.id as string;
    const token = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    const api = (method: 'post' | 'put', url: string, body: object) => request(stack.app)[method](url).set('Authorization', `Bearer ${token}`).send(body);
    const started = await api('post', `/api/tours/${org.tourId}/start`, { device_type: 'desktop' });
    expect(started.status).toBe(201);
    const progress = started.body.progress_id as string;
    expect((await api('put', `/api/tours/progress/${progress}`, { action: 'next_step' })).status).toBe(200);
    const done = await api('put', `/api/tours/progress/${progress}`, { action: 'next_step', user_feedback: { rating: 4, was_helpful: false, feedback: FEEDBACK } });
    expect(done.status).toBe(200);
    expect(done.body.progress.status).toBe('completed');

    // Every planned call went out: the CRM's start, completion, follow-up task and the note with the
    // feedback; the email provider's failing upsert (dead), seed 001's tags and the journey; the SMS welcome.
    const planned = await eventually('the completion to be planned', async () => {
      const rows = await stack.ownerDb('integration_deliveries').where({ organization_id: org.orgId }).pluck('idempotency_key');
      return rows.length === 9 && rows;
    });
    await eventually(`every planned call to reach its provider (${received.length} so far)`, async () =>
      planned.every((key: string) => received.some((r) => r.input.idempotencyKey === key)),
    );
    await eventually('the dead email upsert to be recorded', async () =>
      (await stack.ownerDb('integration_deliveries').where({ organization_id: org.orgId, status: 'dead' }).pluck('action')).join() === 'email.upsertSubscriber',
    );
    // The calls did carry the person and the feedback: there was something to protect.
    const sent = JSON.stringify(received.map((r) => r.input));
    for (const needle of NEEDLES) expect(sent).toContain(needle);
    // So did the webhooks: started, completed and the feedback, the feedback text in two of them, each
    // delivered once the refused first attempt was retried.
    await eventually('every webhook delivered', async () => {
      const rows = await stack.ownerDb('webhook_deliveries').where({ organization_id: org.orgId, status: 'succeeded' });
      return rows.length === 3;
    });
    expect(hook.received.map((r) => r.status)).toEqual([500, 200, 200, 200]);
    expect(hook.received.filter((r) => r.status === 200 && r.body.includes(FEEDBACK))).toHaveLength(2);

    const workflowId = tourWorkflowId(org.orgId, org.memberId, org.tourId);
    // A client without the codec, on purpose: it sees what Temporal stores, as an operator without keys would.
    const raw = new Client({ connection: stack.client.connection, namespace: stack.config.temporal.namespace });
    await eventually('the dead delivery in the details', async () => {
      const meta = await stack.client.workflow.getHandle(workflowId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      return meta.currentDetails?.includes('**dead**');
    });

    // The search finds plaintext, and plaintext in base64 (as an unencrypted payload would hold it).
    expect(leaks({ payload: { data: Buffer.from(JSON.stringify({ ...PERSON, FEEDBACK })).toString('base64') } })).toEqual(NEEDLES);
    const { history, description, metadata } = await rawRecords(raw, workflowId);
    const types = (history.events as { eventType: string }[]).map((e) => e.eventType);
    expect(types).toEqual(expect.arrayContaining(['EVENT_TYPE_ACTIVITY_TASK_SCHEDULED', 'EVENT_TYPE_ACTIVITY_TASK_FAILED', 'EVENT_TYPE_MARKER_RECORDED']));
    expect(leaks(history)).toEqual([]);
    expect(leaks(description.toJSON())).toEqual([]);
    const searchAttributes = description.workflowExecutionInfo?.searchAttributes?.indexedFields ?? {};
    expect(Object.keys(searchAttributes).filter((k) => k.startsWith('Tour')).sort()).toEqual(TOUR_SEARCH_ATTRIBUTES.map((s) => s.name).sort());
    expect(metadata).toBeDefined();
    expect(leaks(metadata!.toJSON())).toEqual([]);

    // The webhook lane of this tour run: the wake-up, its local activities' results, the sends, and the
    // refused attempt's failure (kept as the retried activity's last failure, in an encoded payload).
    const lane = await rawRecords(raw, webhookLaneId(subscriptionId, workflowId));
    const laneEvents = lane.history.events as { eventType: string; activityTaskStartedEventAttributes?: { lastFailure?: { message?: string } } }[];
    expect(laneEvents.map((e) => e.eventType)).toEqual(expect.arrayContaining(['EVENT_TYPE_ACTIVITY_TASK_COMPLETED', 'EVENT_TYPE_MARKER_RECORDED', 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED']));
    expect(laneEvents.map((e) => e.activityTaskStartedEventAttributes?.lastFailure?.message).filter(Boolean)).toEqual(['Encoded failure']);
    expect(leaks(lane.history)).toEqual([]);
    expect(leaks(lane.description.toJSON())).toEqual([]);
    if (lane.metadata) expect(leaks(lane.metadata.toJSON())).toEqual([]);

    // What the codec shows an operator in the UI: summary, details and activity summaries say which call
    // and how it went, never whom it was about or what they wrote.
    const decoded = stack.client.workflow.getHandle(workflowId);
    const { staticSummary } = await decoded.describe().then(async (d) => ({ staticSummary: await d.staticSummary() }));
    const details = (await decoded.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails ?? '';
    expect(details).toContain('invalid_request');
    const codec = tourDataConverter(testSecretBox()).payloadCodecs![0]!;
    const summaries = await codec.decode((await decoded.fetchHistory()).events!.filter((e) => e.userMetadata?.summary).map((e) => e.userMetadata!.summary!));
    const shown = [staticSummary ?? '', details, ...summaries.map((p) => Buffer.from(p.data!).toString())];
    expect(shown.filter(Boolean).length).toBeGreaterThan(3);
    expect(leaks(shown)).toEqual([]);
  });
});
