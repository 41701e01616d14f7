/**
 * The worker process of bench/hub.ts (not a tool of its own): what `tourhub worker` runs (the tour
 * worker from worker.ts createWorker, one rate-limited provider worker per registry entry from
 * cli/services.ts startProviderWorkers), plus the bare hub workflow's
 * worker. Configured by the environment the benchmark sets (the usual config variables, with prebuilt
 * workflow bundles), and two variables of its own:
 *   BENCH_HUB_PROVIDER_RATE   when set, every provider's per-integration rate (activities/s) instead of
 *                             the registry's published one, and the whole queue's at least that: the
 *                             benchmark's "raised rates" rows
 *   BENCH_HUB_BARE_BUNDLE     the bundled bench/bare-hub-workflow.ts, served on BENCH_HUB_BARE_QUEUE
 * Prints "hub worker polling" once every worker runs; SIGINT or SIGTERM stops them and exits.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig, workerDatabaseUrl } from '../config';
import { createRegistry, registry as productRegistry } from '../connectors/registry';
import { createDb } from '../db/knex';
import { createLogger, resolveSecretBox } from '../cli/runtime';
import { startProviderWorkers } from '../cli/services';
import { tourDataConverter } from '../services/payload-codec';
import { temporalConnectionOptions } from '../services/temporal-connection';
import { createWorker, installRuntime } from '../worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const rate = process.env.BENCH_HUB_PROVIDER_RATE ? Number(process.env.BENCH_HUB_PROVIDER_RATE) : undefined;
  if (rate !== undefined && !(rate > 0)) throw new Error(`BENCH_HUB_PROVIDER_RATE must be a positive number, got ${process.env.BENCH_HUB_PROVIDER_RATE}`);
  const bareBundle = process.env.BENCH_HUB_BARE_BUNDLE;
  const bareQueue = process.env.BENCH_HUB_BARE_QUEUE ?? 'bench-bare-hub';
  if (!config.temporal.workflowBundle || !bareBundle) throw new Error('TOURHUB_WORKFLOW_BUNDLE and BENCH_HUB_BARE_BUNDLE must be set (bench/hub.ts sets them)');

  installRuntime(createLogger(config, 'bench-hub-worker'), config.logLevel);
  const box = resolveSecretBox(config, { create: false });
  const registry = rate === undefined ? productRegistry : createRegistry([...productRegistry.values()].map((e) => ({ ...e, ratePerSecond: rate })));
  // As `tourhub worker` connects: the least-privileged role, the deployment's Temporal connection settings.
  const db = createDb(workerDatabaseUrl(config), { poolMax: config.database.poolMax, applicationName: 'tourhub-bench-worker' });
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const tourWorker = await createWorker({ config, db, box, connection, workflowBundle: { codePath: config.temporal.workflowBundle } });
  // Raised rows raise the whole-queue cap (PROVIDER_QUEUE_RPS_LIMIT) too, or it would be what they measure.
  const providerConfig = rate === undefined ? config : { ...config, providers: { ...config.providers, queueRpsLimit: Math.max(config.providers.queueRpsLimit, rate) } };
  const providers = await startProviderWorkers({ config: providerConfig, db, box, connection, providers: registry });
  const bare = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: bareQueue,
    workflowBundle: { codePath: bareBundle },
    // The bare baseline pays for the codec too, so the comparison measures the hub, not the encryption.
    dataConverter: tourDataConverter(box),
  });
  const all = [tourWorker, ...providers, bare];
  const running = all.map((w) => w.run());
  let failed = false;
  for (const r of running) {
    r.catch((err: unknown) => {
      failed = true;
      process.stderr.write(`a worker stopped with an error: ${(err as Error).stack ?? String(err)}\n`);
    });
  }
  const rates = [...registry.values()].map((e) => `${e.id}=${e.ratePerSecond}/s`).join(' ');
  process.stdout.write(`hub worker polling (${providers.length} provider queues: ${rates})\n`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const w of all) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.all(running.map((r) => r.catch(() => undefined)));
      await connection.close();
      await db.destroy();
      process.exit(failed ? 1 : 0);
    })());
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`bench hub worker could not start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
