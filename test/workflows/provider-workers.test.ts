import { NativeConnection } from '@temporalio/worker';
import { createConnectorFactory } from '../../activities/connector-factory';
import { registry } from '../../connectors/registry';
import { createDb } from '../../db/knex';
import { memoryGuard, testOutbound } from '../support/connectors';
import { quietRuntime, testConfig, testSecretBox } from '../support/stack';
import { createProviderWorkers, providerTaskQueue } from '../../worker';

describe('provider task queues', () => {
  it('gives every provider its own queue, each organisation limited to the provider\'s published per-account rate', async () => {
    quietRuntime();
    const config = testConfig();
    const db = createDb(config.database.url!, { poolMax: 1 });
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    try {
      const connectors = createConnectorFactory({ db, box: testSecretBox(), registry, timeoutMs: 1000, outbound: testOutbound(), refreshGrants: {}, guardFor: () => memoryGuard() });
      const workers = await createProviderWorkers({ config, db, box: testSecretBox(), connection, registry, connectors });
      // Each polls its queue for a moment, then lets go of the connection.
      await Promise.all(workers.map((w) => w.runUntil(new Promise((r) => setTimeout(r, 200)))));
      expect(workers.map((w) => w.options.taskQueue)).toEqual([...registry.values()].map((e) => providerTaskQueue(e.id)));
      // No worker caps a whole queue at one account's rate: the server holds each fairness key (an
      // integration) to the provider's limit, and the queue to PROVIDER_QUEUE_RPS_LIMIT.
      expect(workers.map((w) => w.options.maxTaskQueueActivitiesPerSecond)).toEqual(workers.map(() => undefined));
      for (const entry of registry.values()) {
        const { config: queue } = await connection.workflowService.describeTaskQueue({
          namespace: config.temporal.namespace,
          taskQueue: { name: providerTaskQueue(entry.id) },
          taskQueueType: 2, // activity
          reportConfig: true,
        });
        expect({
          queue: providerTaskQueue(entry.id),
          perKey: queue?.fairnessKeysRateLimitDefault?.rateLimit?.requestsPerSecond,
          whole: queue?.queueRateLimit?.rateLimit?.requestsPerSecond,
        }).toEqual({ queue: providerTaskQueue(entry.id), perKey: entry.ratePerSecond, whole: config.providers.queueRpsLimit });
      }
    } finally {
      await connection.close();
      await db.destroy();
    }
  });
});
