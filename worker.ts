import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogEntry, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, healthThresholds } from './activities';
import type { ConnectorFactory } from './activities/connector-factory';
import { createDeliveryActivities } from './activities/deliver';
import { createPullActivities, createSyncActivities } from './activities/sync';
import type { Config } from './config';
import { registry as defaultRegistry, type Registry } from './connectors/registry';
import type { Db } from './db/knex';
import type { SecretBox } from './db/secrets';
import { providerTaskQueue } from './workflows/task-queues';

export interface WorkerDeps {
  config: Config;
  /** Owner connection: the worker writes progress for every organisation. */
  db: Db;
  box: SecretBox;
  connection: NativeConnection;
  /** A prebuilt bundle (tests, images); without one the worker bundles workflows/ at start-up. */
  workflowBundle?: { codePath: string } | { code: string };
  /** Which providers two-way sync reads (default: the registry). */
  registry?: Registry;
}

/** The only place that wires workflows, activities and their dependencies together. */
export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = deps.workflowBundle
    ? { workflowBundle: deps.workflowBundle }
    : { workflowsPath: require.resolve(path.join(__dirname, 'workflows')) };
  return Worker.create({
    connection: deps.connection,
    namespace: deps.config.temporal.namespace,
    taskQueue: deps.config.temporal.taskQueue,
    ...workflows,
    activities: {
      ...createActivities({ db: deps.db, box: deps.box, hub: deps.config.hub }),
      ...createSyncActivities({ db: deps.db, box: deps.box, registry: deps.registry ?? defaultRegistry, sync: deps.config.sync, retry: deps.config.hub.retry }),
    },
  });
}

export { providerTaskQueue };

/**
 * One activity-only worker per provider, on `provider-{id}`, with the server-side rate limit set from the
 * provider's published limit. Every worker on a queue must set the same rate (the server keeps the last
 * one it was told), and these activities must never be eagerly dispatched, which would bypass it.
 */
export async function createProviderWorkers(deps: {
  config: Config;
  db: Db;
  connection: NativeConnection;
  registry: Registry;
  connectors: ConnectorFactory;
}): Promise<Worker[]> {
  // Provider calls, and reading the provider for two-way sync: both paced by the queue's rate.
  const activities = {
    ...createDeliveryActivities({ db: deps.db, connectors: deps.connectors, health: healthThresholds(deps.config.hub) }),
    ...createPullActivities({ db: deps.db, connectors: deps.connectors, pageSize: deps.config.sync.pageSize }),
  };
  return Promise.all(
    [...deps.registry.values()].map((entry) =>
      Worker.create({
        connection: deps.connection,
        namespace: deps.config.temporal.namespace,
        taskQueue: providerTaskQueue(entry.id),
        activities,
        maxTaskQueueActivitiesPerSecond: entry.ratePerSecond,
        // Provider calls wait on the network, not the CPU; the queue's rate is the real limit.
        maxConcurrentActivityTaskExecutions: Math.max(4, Math.ceil(entry.ratePerSecond * 2)),
      }),
    ),
  );
}

let runtimeInstalled = false;

/**
 * What the SDK says that is expected here rather than a problem: the provider workers run activities only,
 * so each says it polls no workflow tasks. Only on provider queues: on the tour queue it would be a fault.
 */
function expected(entry: LogEntry): boolean {
  const taskQueue = entry.meta?.taskQueue;
  return (
    entry.message === 'No workflows registered, not polling for workflow tasks' &&
    typeof taskQueue === 'string' &&
    taskQueue.startsWith(providerTaskQueue(''))
  );
}

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/**
 * The SDK's and the Rust core's log lines, at `level` and above, as lines of our own logger (so they are
 * JSON or readable like the rest), without the expected ones.
 */
export function temporalLogger(logger: Logger, level: LogLevel): DefaultLogger {
  const sdk = logger.child({ component: 'temporal-sdk' });
  return new DefaultLogger(level, (entry) => {
    if (!expected(entry)) sdk[PINO_LEVEL[entry.level]](entry.meta ?? {}, entry.message);
  });
}

/** Quiet the Rust core's own logs unless asked; our pino logs say what matters. */
export function installRuntime(logger: Logger, logLevel: Config['logLevel']): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = logLevel === 'debug' || logLevel === 'trace' ? 'DEBUG' : 'WARN';
  // Signals are ours: cli/runtime.ts stops the API, the worker, Temporal and Postgres in order.
  Runtime.install({ logger: temporalLogger(logger, level), shutdownSignals: [] });
}
