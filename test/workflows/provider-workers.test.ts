import { NativeConnection } from '@temporalio/worker';
import { createConnectorFactory } from '../../activities/connector-factory';
import { registry } from '../../connectors/registry';
import { createDb } from '../../db/knex';
import { memoryGuard, testOutbound } from '../support/connectors';
import { quietRuntime, testConfig, testSecretBox } from '../support/stack';
import { createProviderWorkers, providerTaskQueue } from '../../worker';

describe('provider task queues', () => {
  it('gives every provider its own queue, rate-limited at its published limit', async () => {
    quietRuntime();
    const config = testConfig();
    const db = createDb(config.database.url!, { poolMax: 1 });
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    try {
      const connectors = createConnectorFactory({ db, box: testSecretBox(), registry, timeoutMs: 1000, outbound: testOutbound(), refreshGrants: {}, guardFor: () => memoryGuard() });
      const workers = await createProviderWorkers({ config, db, box: testSecretBox(), connection, registry, connectors });
      // Each polls its queue for a moment, then lets go of the connection.
      await Promise.all(workers.map((w) => w.runUntil(new Promise((r) => setTimeout(r, 200)))));
      const queues = workers.map((w) => [w.options.taskQueue, w.options.maxTaskQueueActivitiesPerSecond]);
      expect(queues).toEqual([...registry.values()].map((e) => [providerTaskQueue(e.id), e.ratePerSecond]));
      expect(queues.map((q) => q[0])).toContain('provider-stripe');
    } finally {
      await connection.close();
      await db.destroy();
    }
  });
});
