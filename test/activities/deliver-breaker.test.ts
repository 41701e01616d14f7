import crypto from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { createConnectorFactory } from '../../activities/connector-factory';
import { createActivities } from '../../activities';
import { createDeliveryActivities } from '../../activities/deliver';
import type { CrmConnector, PaymentConnector } from '../../connectors/contracts';
import { ConnectorError } from '../../connectors/errors';
import { createRegistry, type ProviderEntry } from '../../connectors/registry';
import { createDb, type Db } from '../../db/knex';
import { insertPlanned, pgDeliveryGuard } from '../../db/repositories/deliveries';
import { insertIntegration } from '../../db/repositories/integrations';
import type { DeliveryInput } from '../../domain/hub';
import { TEST_ENV_KEYS } from '../support/constants';
import { createOrg } from '../support/fixtures';
import { testConfig, testSecretBox } from '../support/stack';
import { testOutbound } from '../support/connectors';

// A CRM and a payment provider that record calls and fail on demand.
const calls: string[] = [];
let crmDown = false;
let rejectPayment = false;
const entry = (id: string, category: 'crm' | 'payment', create: ProviderEntry['create']): ProviderEntry => ({
  id,
  category,
  displayName: id,
  auth: 'api-key',
  credentialsSchema: z.strictObject({ apiKey: z.string() }),
  settingsSchema: z.strictObject({}),
  hosts: [],
  ratePerSecond: 5,
  docsUrl: 'https://example.invalid',
  create,
});
const crm = entry('breaker-crm', 'crm', () => ({
  async logActivity(_i, { idempotencyKey }) {
    calls.push(idempotencyKey);
    if (crmDown) throw new ConnectorError({ code: 'provider_unavailable', retryable: true, provider: 'breaker-crm', status: 503, message: 'breaker-crm answered 503' });
    return { activityId: `act-${calls.length}` };
  },
}) as Partial<CrmConnector> as CrmConnector);
const payment = entry('breaker-pay', 'payment', () => ({
  async upsertCustomer(_i, { idempotencyKey }) {
    calls.push(idempotencyKey);
    if (rejectPayment) throw new ConnectorError({ code: 'bad_request', retryable: false, provider: 'breaker-pay', status: 400, message: 'breaker-pay answered 400' });
    return { customerId: 'cus_1' };
  },
}) as Partial<PaymentConnector> as PaymentConnector);

const box = testSecretBox();
const PROBE_MS = 30_000;
let db: Db;
let activities: ReturnType<typeof createDeliveryActivities>;

beforeAll(() => {
  db = createDb(process.env[TEST_ENV_KEYS.pgUrl]!, { poolMax: 4 });
  const connectors = createConnectorFactory({ db, box, registry: createRegistry([crm, payment]), timeoutMs: 1000, outbound: testOutbound(), refreshGrants: {}, guardFor: (row) => pgDeliveryGuard(db, row) });
  activities = createDeliveryActivities({ db, connectors, health: { degradedBelow: 0.95, minAttempts: 10, probeIntervalMs: PROBE_MS, recoverAfter: 3 } });
});

afterAll(async () => {
  await db.destroy();
});

beforeEach(() => {
  calls.length = 0;
  crmDown = false;
  rejectPayment = false;
});

async function integration(provider: string, type: 'crm' | 'payment') {
  const org = await createOrg(db);
  const integrationId = crypto.randomUUID();
  await insertIntegration(db, box, { id: integrationId, organizationId: org.orgId, type, provider, settings: { provider: {}, field_mapping: {}, enabled_events: [] }, credentials: { apiKey: 'k' }, isActive: true });
  return { org, integrationId };
}

function delivery(integrationId: string, opts: { eventId?: string; eventType?: string; workflowId?: string; payment?: boolean } = {}): DeliveryInput {
  const eventId = opts.eventId ?? `tour:o:u:t:${crypto.randomUUID().slice(0, 6)}`;
  const person = { email: 'ava@example.com' };
  return {
    workflowId: opts.workflowId ?? 'tour:o:u:t',
    eventId,
    eventType: opts.eventType ?? 'tour_started',
    integrationId,
    idempotencyKey: `${eventId}:${integrationId}:0:${opts.payment ? 'upsertCustomer' : 'logActivity'}`,
    action: opts.payment
      ? { category: 'payment', method: 'upsertCustomer', input: { person, metadata: {} } }
      : { category: 'crm', method: 'logActivity', input: { person, type: 'tour_started', title: 't', description: 'd', occurredAt: '2026-11-23T12:00:00Z', metadata: {} } },
  };
}

const run = (i: DeliveryInput) => new MockActivityEnvironment({ attempt: 1 }).run(activities.deliver, i);
const failure = (p: Promise<unknown>) => p.then(() => Promise.reject(new Error('resolved')), (e: unknown) => e as { type?: string; nonRetryable?: boolean; details?: unknown[] });
const events = (orgId: string) => db('outbound_events').where({ organization_id: orgId }).orderBy(['created_at', 'event_type']).select('event_type', 'payload');

describe('the circuit breaker in the deliver activity', () => {
  it('opens once the integration is judged degraded; calls are then held back without reaching the provider or the log, until one probe goes through and closes it', async () => {
    const { org, integrationId } = await integration('breaker-crm', 'crm');
    crmDown = true;
    for (let n = 0; n < 10; n++) await failure(run(delivery(integrationId)));
    expect((await db('organization_integrations').where({ id: integrationId }).first()).breaker_state).toBe('open');
    expect((await events(org.orgId)).map((e) => e.event_type)).toEqual(['integration.degraded', 'integration.paused']);

    // Open: ten more calls, none reaches the provider or writes an attempt; each says when to ask again.
    const probeDue = (at: string) => db('organization_integrations').where({ id: integrationId }).update({ breaker_next_probe_at: db.raw(at) });
    await probeDue(`now() + interval '1 hour'`);
    calls.length = 0;
    const logged = async () => Number((await db('integration_logs').where({ integration_id: integrationId }).count({ n: '*' }))[0]!.n);
    const before = await logged();
    for (let n = 0; n < 10; n++) {
      const held = await failure(run(delivery(integrationId)));
      expect(held).toMatchObject({ type: 'circuit_open', nonRetryable: true });
      expect((held.details![0] as { retryAt: number }).retryAt).toBeGreaterThan(Date.now() + 3_000_000);
    }
    expect(calls).toEqual([]);
    expect(await logged()).toBe(before);

    // The probe time comes: of concurrent calls exactly one is let through; it fails, so it stays open.
    await probeDue('now()');
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => failure(run(delivery(integrationId)))));
    expect(outcomes.filter((o) => o.type === 'provider_unavailable')).toHaveLength(1);
    expect(outcomes.filter((o) => o.type === 'circuit_open')).toHaveLength(4);
    expect(calls).toHaveLength(1);

    // The provider is back: the next probe succeeds, the breaker closes and the organisation hears it once.
    crmDown = false;
    await probeDue('now()');
    const probe = delivery(integrationId);
    await expect(run(probe)).resolves.toMatchObject({ alreadyDelivered: false });
    expect(await db('organization_integrations').where({ id: integrationId }).first('health', 'breaker_state')).toEqual({ health: 'healthy', breaker_state: 'closed' });
    expect((await events(org.orgId)).map((e) => e.event_type)).toEqual(['integration.degraded', 'integration.paused', 'integration.recovered']);
    const recovered = (await events(org.orgId)).at(-1)!;
    expect(recovered.payload).toEqual({ integration_id: integrationId, provider: 'breaker-crm', reason: 'probe' });
    // Closed: calls go straight through again.
    await expect(run(delivery(integrationId))).resolves.toMatchObject({ alreadyDelivered: false });
  });

  it('a delivery already made returns as made even while the breaker is open', async () => {
    const { integrationId } = await integration('breaker-crm', 'crm');
    const d = delivery(integrationId);
    await run(d);
    await db('organization_integrations').where({ id: integrationId }).update({ breaker_state: 'open', breaker_next_probe_at: new Date(Date.now() + 60_000) });
    await expect(run(d)).resolves.toMatchObject({ alreadyDelivered: true });
  });
});

describe('alerts and the onboarding-complete event', () => {
  it('a CRM or payment delivery that will not be retried alerts the organisation once, with ids and codes only', async () => {
    const { org, integrationId } = await integration('breaker-pay', 'payment');
    rejectPayment = true;
    const d = delivery(integrationId, { payment: true });
    expect(await failure(run(d))).toMatchObject({ type: 'bad_request', nonRetryable: true });
    // The workflow then marks it dead: still one alert.
    await createActivities({ db, box, hub: testConfig().hub }).markDeliveryDead({ idempotencyKey: d.idempotencyKey, integrationId, error: 'bad_request: breaker-pay answered 400' });
    const alerts = (await events(org.orgId)).filter((e) => e.event_type === 'integration.failure');
    expect(alerts).toHaveLength(1);
    const row = await db('integration_deliveries').where({ idempotency_key: d.idempotencyKey }).first('id');
    expect(alerts[0]!.payload).toEqual({
      integration_id: integrationId,
      provider: 'breaker-pay',
      category: 'payment',
      delivery_id: row.id,
      event_type: 'tour_started',
      action: 'payment.upsertCustomer',
      error_code: 'bad_request',
    });
    expect(JSON.stringify(alerts)).not.toContain('ava@example.com');
  });

  it('a CRM delivery that runs out of retries alerts once it is marked dead', async () => {
    const { org, integrationId } = await integration('breaker-crm', 'crm');
    crmDown = true;
    const d = delivery(integrationId);
    await failure(run(d));
    expect((await events(org.orgId)).filter((e) => e.event_type === 'integration.failure')).toHaveLength(0);
    await createActivities({ db, box, hub: testConfig().hub }).markDeliveryDead({ idempotencyKey: d.idempotencyKey, integrationId, error: "ran out of time (HUB_RETRY_MAX_TIME) while retrying" });
    expect((await events(org.orgId)).filter((e) => e.event_type === 'integration.failure')).toHaveLength(1);
  });

  it('says the onboarding is complete once every integration took the tour\'s completion, once, whichever finished last', async () => {
    const a = await integration('breaker-crm', 'crm');
    const orgId = a.org.orgId;
    const b = crypto.randomUUID();
    await insertIntegration(db, box, { id: b, organizationId: orgId, type: 'payment', provider: 'breaker-pay', settings: { provider: {}, field_mapping: {}, enabled_events: [] }, credentials: { apiKey: 'k' }, isActive: true });
    const workflowId = `tour:${orgId}:${a.org.memberId}:${a.org.tourId}`;
    const eventId = `${workflowId}:6.0`;
    const first = delivery(a.integrationId, { eventId, eventType: 'tour_completed', workflowId });
    const second = delivery(b, { eventId, eventType: 'tour_completed', workflowId, payment: true });
    // Planning wrote both rows as pending before either was sent.
    await insertPlanned(db, [first, second].map((d) => ({ organizationId: orgId, integrationId: d.integrationId, eventId, eventType: 'tour_completed', action: `${d.action.category}.${d.action.method}`, idempotencyKey: d.idempotencyKey, workflowId, payload: {}, sealedAction: {} })));
    await run(first);
    expect((await events(orgId)).filter((e) => e.event_type === 'tour.onboarding_completed')).toHaveLength(0);
    rejectPayment = true;
    await failure(run(second));
    expect((await events(orgId)).filter((e) => e.event_type === 'tour.onboarding_completed')).toHaveLength(0);
    // The dead payment call is replayed and succeeds: now every integration took it.
    rejectPayment = false;
    await run(second);
    await run(first); // already delivered: changes nothing
    const done = (await events(orgId)).filter((e) => e.event_type === 'tour.onboarding_completed');
    expect(done).toHaveLength(1);
    expect(done[0]!.payload).toEqual({ event_id: eventId, tour_id: a.org.tourId, user_id: a.org.memberId, integrations: 2, deliveries: 2 });
  });
});
