import crypto from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { createConnectorFactory } from '../../activities/connector-factory';
import { createActivities } from '../../activities';
import { createDeliveryActivities } from '../../activities/deliver';
import type { CrmConnector } from '../../connectors/contracts';
import { ConnectorError } from '../../connectors/errors';
import { sendOnce } from '../../connectors/guard';
import { createRegistry, type ProviderEntry } from '../../connectors/registry';
import { createDb, type Db } from '../../db/knex';
import { pgDeliveryGuard } from '../../db/repositories/deliveries';
import type { DeliveryInput } from '../../domain/hub';
import { insertIntegration } from '../../db/repositories/integrations';
import { TEST_ENV_KEYS } from '../support/constants';
import { createOrg } from '../support/fixtures';
import { testConfig, testSecretBox } from '../support/stack';
import { testOutbound } from '../support/connectors';

// A CRM that records what it was sent and fails on demand, guarding its notes like a provider without keys.
const sent: { method: string; key: string }[] = [];
let failWith: ConnectorError | undefined;
let built = 0;
const fakeCrm: ProviderEntry = {
  id: 'fake-crm',
  category: 'crm',
  displayName: 'Fake CRM',
  auth: 'api-key',
  credentialsSchema: z.strictObject({ apiKey: z.string() }),
  settingsSchema: z.strictObject({}),
  hosts: [],
  ratePerSecond: 5,
  docsUrl: 'https://example.invalid',
  create: (ctx) => {
    built++;
    return {
      async logActivity(_input, { idempotencyKey }) {
        if (failWith) throw failWith;
        sent.push({ method: 'logActivity', key: idempotencyKey });
        return { activityId: `act-${sent.length}` };
      },
      async addNote(_input, { idempotencyKey }) {
        const ref = await sendOnce(ctx.guard, idempotencyKey, async () => {
          sent.push({ method: 'addNote', key: idempotencyKey });
          return `note-${sent.length}`;
        });
        return { noteId: ref ?? null };
      },
    } as Partial<CrmConnector> as CrmConnector;
  },
};

const box = testSecretBox();
let db: Db;
let activities: ReturnType<typeof createDeliveryActivities>;
let tourActivities: ReturnType<typeof createActivities>;

beforeAll(() => {
  db = createDb(process.env[TEST_ENV_KEYS.pgUrl]!, { poolMax: 4 });
  const connectors = createConnectorFactory({
    db,
    box,
    registry: createRegistry([fakeCrm]),
    timeoutMs: 1000,
    outbound: testOutbound(),
    refreshGrants: {},
    guardFor: (row) => pgDeliveryGuard(db, row),
  });
  activities = createDeliveryActivities({ db, connectors, health: { degradedBelow: 0.95, minAttempts: 10 } });
  tourActivities = createActivities({ db, box, hub: testConfig().hub });
});

afterAll(async () => {
  await db.destroy();
});

async function integration(): Promise<{ orgId: string; integrationId: string }> {
  const org = await createOrg(db);
  const integrationId = crypto.randomUUID();
  await insertIntegration(db, box, {
    id: integrationId,
    organizationId: org.orgId,
    type: 'crm',
    provider: 'fake-crm',
    settings: { provider: {}, field_mapping: {}, enabled_events: [] },
    credentials: { apiKey: 'k' },
    isActive: true,
  });
  return { orgId: org.orgId, integrationId };
}

function input(integrationId: string, method: 'logActivity' | 'addNote' = 'logActivity'): DeliveryInput {
  const eventId = `tour:o:u:t:${crypto.randomUUID().slice(0, 6)}`;
  const person = { email: 'ava@example.com' };
  return {
    workflowId: 'tour:o:u:t',
    eventId,
    eventType: 'tour_started',
    integrationId,
    idempotencyKey: `${eventId}:${integrationId}:0:${method}`,
    action:
      method === 'logActivity'
        ? { category: 'crm', method, input: { person, type: 'tour_started', title: 't', description: 'd', occurredAt: '2026-11-23T12:00:00Z', metadata: {} } }
        : { category: 'crm', method, input: { person, body: 'Loved it' } },
  };
}

const run = (i: DeliveryInput, attempt = 1) => new MockActivityEnvironment({ attempt }).run(activities.deliver, i);

describe('the deliver activity', () => {
  beforeEach(() => {
    sent.length = 0;
    failWith = undefined;
  });

  it('calls the provider with the key, logs the attempt and marks the delivery succeeded; a replay sends nothing', async () => {
    const { integrationId } = await integration();
    const i = input(integrationId);
    await expect(run(i)).resolves.toEqual({ reference: 'act-1', alreadyDelivered: false });
    expect(sent).toEqual([{ method: 'logActivity', key: i.idempotencyKey }]);
    const delivery = await db('integration_deliveries').where({ idempotency_key: i.idempotencyKey }).first();
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1, provider_reference: 'act-1', action: 'crm.logActivity' });
    const logs = await db('integration_logs').where({ delivery_id: delivery.id });
    expect(logs).toEqual([expect.objectContaining({ success: true, attempt: 1, request_summary: { method: 'crm.logActivity', fields: ['description', 'metadata', 'occurredAt', 'person', 'title', 'type'] } })]);
    expect(JSON.stringify(logs)).not.toContain('ava@example.com');

    await expect(run(i, 1)).resolves.toEqual({ reference: 'act-1', alreadyDelivered: true });
    expect(sent).toHaveLength(1);
  });

  it('sends nothing for a delivery cancelled by an erasure, and keeps it cancelled', async () => {
    const { integrationId } = await integration();
    const i = input(integrationId);
    await db('integration_deliveries').insert({
      organization_id: (await db('organization_integrations').where({ id: integrationId }).first()).organization_id,
      integration_id: integrationId,
      event_id: i.eventId,
      event_type: i.eventType,
      action: 'crm.logActivity',
      idempotency_key: i.idempotencyKey,
      workflow_id: i.workflowId,
      status: 'cancelled',
    });
    const err = await run(i).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'delivery_cancelled', nonRetryable: true });
    expect(sent).toEqual([]);
    await tourActivities.markDeliveryDead({ idempotencyKey: i.idempotencyKey, integrationId, error: 'delivery_cancelled' });
    expect(await db('integration_deliveries').where({ idempotency_key: i.idempotencyKey }).first()).toMatchObject({ status: 'cancelled', attempts: 0 });
    expect(await db('integration_logs').where({ event_id: i.eventId }).first()).toBeUndefined();
  });

  it('turns a non-retryable provider answer into a non-retryable failure and a dead delivery', async () => {
    const { integrationId } = await integration();
    failWith = new ConnectorError({ code: 'bad_request', retryable: false, provider: 'fake-crm', status: 400, message: 'fake-crm answered 400' });
    const i = input(integrationId);
    const err = await run(i).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'bad_request', nonRetryable: true });
    expect(await db('integration_deliveries').where({ idempotency_key: i.idempotencyKey }).first()).toMatchObject({ status: 'dead', attempts: 1 });
    expect(await db('integration_logs').where({ event_id: i.eventId }).first()).toMatchObject({ success: false, http_status: 400, error_class: 'bad_request' });
  });

  it('asks Temporal to wait out a Retry-After on a retryable answer', async () => {
    const { integrationId } = await integration();
    failWith = new ConnectorError({ code: 'rate_limited', retryable: true, provider: 'fake-crm', status: 429, retryAfterMs: 7000, message: 'slow down' });
    const i = input(integrationId);
    const err = await run(i, 3).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'rate_limited', nonRetryable: false, nextRetryDelay: 7000 });
    expect(await db('integration_deliveries').where({ idempotency_key: i.idempotencyKey }).first()).toMatchObject({ status: 'failed', attempts: 3 });
    failWith = undefined;
    await expect(run(i, 4)).resolves.toMatchObject({ alreadyDelivered: false });
    expect(await db('integration_logs').where({ event_id: i.eventId }).orderBy('attempt').pluck('success')).toEqual([false, true]);
  });

  it('keeps a provider without idempotency keys to one send through the Postgres guard', async () => {
    const { integrationId } = await integration();
    const i = input(integrationId, 'addNote');
    await run(i);
    // The delivery row is reset as if the success had not been recorded (a crash right after the send).
    await db('integration_deliveries').where({ idempotency_key: i.idempotencyKey }).update({ status: 'failed' });
    await expect(run(i, 2)).resolves.toEqual({ reference: 'note-1', alreadyDelivered: false });
    expect(sent.filter((s) => s.method === 'addNote')).toHaveLength(1);
    expect(await db('delivery_guards').where({ idempotency_key: i.idempotencyKey }).first()).toMatchObject({ state: 'sent', reference: 'note-1' });
  });

  it('refuses a disabled or deleted integration without retrying', async () => {
    const { integrationId } = await integration();
    await db('organization_integrations').where({ id: integrationId }).update({ is_active: false });
    await expect(run(input(integrationId))).rejects.toMatchObject({ type: 'integration_disabled', nonRetryable: true });
    await expect(run(input(crypto.randomUUID()))).rejects.toMatchObject({ type: 'integration_gone', nonRetryable: true });
  });

  it('marks a delivery dead when the workflow gives up on it, but never a delivered one', async () => {
    const { integrationId } = await integration();
    const i = input(integrationId);
    failWith = new ConnectorError({ code: 'provider_unavailable', retryable: true, provider: 'fake-crm', status: 503, message: 'down' });
    await run(i).catch(() => undefined);
    await tourActivities.markDeliveryDead({ idempotencyKey: i.idempotencyKey, integrationId, error: 'retries exhausted' });
    expect(await db('integration_deliveries').where({ idempotency_key: i.idempotencyKey }).first()).toMatchObject({ status: 'dead', last_error: 'retries exhausted' });
  });

  it('builds an integration\'s connector once, and again only after the integration changed', async () => {
    const { integrationId } = await integration();
    const before = built;
    await run(input(integrationId));
    await run(input(integrationId));
    expect(built - before).toBe(1);
    await db('organization_integrations').where({ id: integrationId }).update({ updated_at: db.fn.now() });
    await run(input(integrationId));
    expect(built - before).toBe(2);
  });
});
