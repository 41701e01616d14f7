/**
 * Records a hub run of tourLifecycle (deliveries on provider queues, a retried call, a dead one, the
 * abandonment timer, a resume, completion with feedback and subscription interest, the check-in series)
 * for the replay test. Self-contained: starts its own headless dev server and workers with the test
 * fakes, so it needs no stack. Run it before changing workflow logic and commit the JSON:
 *   npx tsx test/workflows/histories/record-hub.ts tour-lifecycle-v3
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import type { DeliveryResult } from '../../../activities/deliver';
import type { DeliveryInput } from '../../../domain/hub';
import { createTourWorkflows } from '../../../api/temporal';
import { findTemporalCli, startDevServer } from '../../../cli/temporal-cli';
import { loadConfig } from '../../../config';
import { tourWorkflowId } from '../../../workflows/search-attributes';
import { providerTaskQueue } from '../../../workflows/task-queues';
import { fakeActivities, type FakeIntegration } from '../../support/fake-activities';
import { freePort } from '../../support/ports';

async function main(): Promise<void> {
  const [name] = process.argv.slice(2);
  if (!name) throw new Error('usage: record-hub.ts <name>');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const repo = path.resolve(__dirname, '..', '..', '..');
  const binary = await findTemporalCli({ cliPath: process.env.TEMPORAL_CLI_PATH, toolsDir: path.join(repo, '.tools') });
  const server = await startDevServer({ binary, port: await freePort(), headless: true });
  try {
    const config = loadConfig({ TOURHUB_ENV: 'test', TEMPORAL_ADDRESS: server.address, TEMPORAL_TASK_QUEUE: 'record-hub' });
    const shape = { tourId: crypto.randomUUID(), name: 'Welcome to your wedding dashboard', steps: ['date', 'guests', 'vendors'].map((key) => ({ key, skippable: true })) };
    const integrations: FakeIntegration[] = [
      { id: crypto.randomUUID(), provider: 'rec-crm', category: 'crm', settings: { field_mapping: { tour_rating: 'cf_rating' } } },
      { id: crypto.randomUUID(), provider: 'rec-calendar', category: 'calendar' },
      { id: crypto.randomUUID(), provider: 'rec-email', category: 'email' },
      { id: crypto.randomUUID(), provider: 'rec-payment', category: 'payment' },
    ];
    const fake = fakeActivities(shape, {
      integrations,
      hub: { abandonAfterMs: 1_500, reengageAfterMs: 60_000, checkInAfterMs: [1_000, 2_000], checkInLeadMs: 0 },
    });
    const native = await NativeConnection.connect({ address: server.address });
    const deliver = (provider: string) => async (input: DeliveryInput): Promise<DeliveryResult> => {
      const { attempt } = Context.current().info;
      if (provider === 'rec-crm' && input.eventType === 'tour_started' && attempt === 1) {
        throw ApplicationFailure.create({ type: 'provider_unavailable', message: '503 from the CRM' });
      }
      if (provider === 'rec-email' && input.action.method === 'upsertSubscriber') {
        throw ApplicationFailure.create({ type: 'invalid_request', message: '400 merge field missing', nonRetryable: true });
      }
      return { reference: `${provider}-ref`, alreadyDelivered: false };
    };
    const workers = await Promise.all([
      Worker.create({ connection: native, taskQueue: 'record-hub', workflowsPath: require.resolve(path.join(repo, 'workflows')), activities: fake.activities }),
      ...integrations.map((i) => Worker.create({ connection: native, taskQueue: providerTaskQueue(i.provider), activities: { deliver: deliver(i.provider) } })),
    ]);
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const tours = createTourWorkflows(client, config);
    const key = { orgId: crypto.randomUUID(), userId: crypto.randomUUID(), tourId: shape.tourId };
    const handle = client.workflow.getHandle(tourWorkflowId(key.orgId, key.userId, key.tourId));
    const scenario = async () => {
      await tours.start(key, { deviceType: 'mobile' }, 'recorded for the replay test');
      await tours.advance(key, { action: 'next_step', interactionTimeMs: 1200 }, '');
      // Idle past the inactivity period: the workflow abandons the tour itself.
      await new Promise((r) => setTimeout(r, 2_500));
      await tours.start(key, {}, ''); // resume: cancels the re-engagement
      await tours.advance(key, { action: 'next_step', expectedVersion: 1 }, '').catch(() => undefined);
      await tours.advance(key, { action: 'complete_tour', feedback: { rating: 5, wasHelpful: true }, subscriptionInterest: { plan: 'premium' } }, '');
      return handle.result();
    };
    const running = workers.map((w) => w.run());
    try {
      await scenario();
    } finally {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
    }
    const history = await handle.fetchHistory();
    const file = path.join(__dirname, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 1));
    process.stdout.write(`wrote ${file} (${history.events?.length} events; ${fake.planned.length} deliveries planned, ${fake.deadMarks.length} dead)\n`);
    await connection.close();
    await native.close();
  } finally {
    await server.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
