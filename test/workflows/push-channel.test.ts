import crypto from 'node:crypto';
import { NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import { createPushChannelActivities } from '../../activities/push-channels';
import type { ConnectorFactory } from '../../activities/connector-factory';
import type { CalendarConnector, ChangeChannel, WatchInput } from '../../connectors/contracts';
import { insertIntegration } from '../../db/repositories/integrations';
import { tourDataConverter } from '../../services/payload-codec';
import { tokenHash } from '../../services/webhook-signatures';
import { createWebhookRelay } from '../../services/webhook-relay';
import { providerTaskQueue } from '../../workflows/task-queues';
import { pushChannelWorkflowId } from '../../workflows/webhook-messages';
import { createWorker } from '../../worker';
import { createOrg } from '../support/fixtures';
import { quietRuntime, startStack, testSecretBox, type Stack } from '../support/stack';

/** A calendar that records its channel calls; Google's has no in-place renewal, Graph's does. */
function fakeCalendar(kind: 'google' | 'graph', ttlMs: number) {
  const calls: string[] = [];
  const watched: WatchInput[] = [];
  const connector: Partial<CalendarConnector> = {
    async watch(input) {
      calls.push(`watch ${input.channelId}`);
      watched.push(input);
      return { channelId: kind === 'google' ? input.channelId : `sub-${watched.length}`, ...(kind === 'google' ? { resourceId: 'res-1' } : {}), resource: 'primary/events', expiresAt: Date.now() + Math.min(ttlMs, input.ttlMs) };
    },
    async stopWatch(channel: ChangeChannel) {
      calls.push(`stop ${channel.channelId}`);
    },
    ...(kind === 'graph'
      ? {
          async renewWatch(channel: ChangeChannel) {
            calls.push(`renew ${channel.channelId}`);
            return { expiresAt: Date.now() + ttlMs };
          },
        }
      : {}),
  };
  const factory = { forIntegration: () => connector } as unknown as ConnectorFactory;
  return { calls, watched, factory };
}

let stack: Stack;

beforeAll(async () => {
  // Providers post only to https: the API's public URL is one here.
  stack = await startStack({ worker: false, config: { PUBLIC_URL: 'https://tourhub.example.com' } });
  quietRuntime();
});

afterAll(async () => {
  await stack.close();
});

async function calendarIntegration(provider: 'google-calendar' | 'outlook-calendar') {
  const org = await createOrg(stack.ownerDb);
  const id = crypto.randomUUID();
  await insertIntegration(stack.ownerDb, testSecretBox(), { id, organizationId: org.orgId, type: 'calendar', provider, settings: { provider: {}, field_mapping: {}, enabled_events: [] }, credentials: { accessToken: 'a' }, isActive: true });
  return id;
}
const channels = (integrationId: string) => stack.ownerDb('push_channels').where({ integration_id: integrationId }).orderBy('created_at');

describe('ensurePushChannel', () => {
  it('makes a channel with a fresh token kept only as its hash, keeps a live one, and replaces a Google channel near expiry', async () => {
    const id = await calendarIntegration('google-calendar');
    const cal = fakeCalendar('google', 60_000);
    const { ensurePushChannel } = createPushChannelActivities({ db: stack.workerDb, connectors: cal.factory, publicUrl: 'https://tourhub.example.com', ttlMs: 60_000 });
    const first = await ensurePushChannel({ integrationId: id, renewBeforeMs: 10_000 });
    expect(first).toEqual({ kind: 'active', renewAt: expect.any(Number) });
    expect(cal.watched[0]).toMatchObject({ address: `https://tourhub.example.com/api/webhooks/google-calendar/${id}`, ttlMs: 60_000 });
    const [row] = await channels(id);
    expect(row).toMatchObject({ provider: 'google-calendar', channel_id: cal.watched[0]!.channelId, resource_id: 'res-1', status: 'active', token_hash: tokenHash(cal.watched[0]!.token) });
    expect(JSON.stringify(row)).not.toContain(cal.watched[0]!.token);

    expect(await ensurePushChannel({ integrationId: id, renewBeforeMs: 10_000 })).toEqual({ kind: 'active', renewAt: row.expires_at.getTime() - 10_000 });
    expect(cal.calls).toHaveLength(1);

    // Within the renewal lead: a new channel first, then the old one stopped.
    await ensurePushChannel({ integrationId: id, renewBeforeMs: 59_000 + 5_000 });
    expect(cal.calls).toEqual([`watch ${cal.watched[0]!.channelId}`, `watch ${cal.watched[1]!.channelId}`, `stop ${cal.watched[0]!.channelId}`]);
    expect((await channels(id)).map((c) => c.status)).toEqual(['stopped', 'active']);
  });

  it('extends a Graph subscription in place, and stops everything once the integration is disabled', async () => {
    const id = await calendarIntegration('outlook-calendar');
    const cal = fakeCalendar('graph', 60_000);
    const { ensurePushChannel } = createPushChannelActivities({ db: stack.workerDb, connectors: cal.factory, publicUrl: 'https://tourhub.example.com', ttlMs: 60_000 });
    await ensurePushChannel({ integrationId: id, renewBeforeMs: 1_000 });
    expect(cal.watched[0]!.address).toBe(`https://tourhub.example.com/api/webhooks/microsoft-graph/${id}`);
    await ensurePushChannel({ integrationId: id, renewBeforeMs: 70_000 });
    expect(cal.calls).toEqual([`watch ${cal.watched[0]!.channelId}`, 'renew sub-1']);
    expect((await channels(id)).map((c) => [c.channel_id, c.status])).toEqual([['sub-1', 'active']]);

    await stack.ownerDb('organization_integrations').where({ id }).update({ is_active: false });
    expect(await ensurePushChannel({ integrationId: id, renewBeforeMs: 1_000 })).toEqual({ kind: 'stopped' });
    expect(cal.calls.at(-1)).toBe('stop sub-1');
    expect((await channels(id)).map((c) => c.status)).toEqual(['stopped']);
  });
});

describe('the pushChannel workflow', () => {
  it('is not started while the public URL is plain http: no provider would post to it', async () => {
    await calendarIntegration('google-calendar');
    const relay = createWebhookRelay({ db: stack.workerDb, client: stack.client, taskQueue: stack.config.temporal.taskQueue, config: stack.config.webhooks, publicUrl: 'http://localhost:3000', logger: pino({ level: 'silent' }) });
    expect(await relay.sweepChannels()).toBe(0);
  });

  it('is started by the relay\'s sweep, renews the channel before it expires, and ends when the integration goes', async () => {
    const id = await calendarIntegration('google-calendar');
    // Channels of 3 s renewed 2 s before expiry: a renewal about every second.
    const cal = fakeCalendar('google', 3_000);
    const connection = await NativeConnection.connect({ address: stack.config.temporal.address });
    const workflows = await createWorker({ config: stack.config, db: stack.workerDb, box: testSecretBox(), connection, workflowBundle: { codePath: stack.config.temporal.workflowBundle! } });
    const activities = await Worker.create({
      connection,
      taskQueue: providerTaskQueue('google-calendar'),
      dataConverter: tourDataConverter(testSecretBox()),
      activities: createPushChannelActivities({ db: stack.workerDb, connectors: cal.factory, publicUrl: 'https://tourhub.example.com', ttlMs: 3_000 }),
    });
    const running = Promise.all([workflows.run(), activities.run()]);
    try {
      const relay = createWebhookRelay({
        db: stack.workerDb,
        client: stack.client,
        taskQueue: stack.config.temporal.taskQueue,
        config: { ...stack.config.webhooks, channelRenewBeforeMs: 2_000 },
        publicUrl: stack.config.publicUrl,
        logger: pino({ level: 'silent' }),
      });
      expect(await relay.sweepChannels()).toBeGreaterThanOrEqual(1);
      const handle = stack.client.workflow.getHandle(pushChannelWorkflowId(id));
      // The sweep starts a workflow for every calendar integration without a channel, in any test's
      // organisation: count this one's channels.
      await waitFor(async () => (await channels(id)).length >= 3);
      const rows = await channels(id);
      expect(rows.filter((r) => r.status === 'active')).toHaveLength(1);
      expect(rows.length).toBeGreaterThanOrEqual(3);
      // The active one is always the newest and was made before the previous one expired.
      for (let i = 1; i < rows.length; i++) expect(rows[i]!.created_at.getTime()).toBeLessThan(rows[i - 1]!.expires_at.getTime());

      await stack.ownerDb('organization_integrations').where({ id }).delete();
      await handle.result();
      expect(cal.calls.at(-1)).toMatch(/^stop /);
    } finally {
      workflows.shutdown();
      activities.shutdown();
      await running;
      await connection.close();
    }
  });
});

async function waitFor(probe: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
