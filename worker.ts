import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker, type LogEntry, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from './activities';
import type { ConnectorFactory } from './activities/connector-factory';
import { createDeliveryActivities } from './activities/deliver';
import type { Config } from './config';
import type { Registry } from './connectors/registry';
import type { Db } from './db/knex';
import type { SecretBox } from './db/secrets';
import { FAILURE_CONVERTER_PATH, tourDataConverter } from './services/payload-codec';
import { providerTaskQueue } from './workflows/task-queues';

export interface WorkerDeps {
  config: Config;
  /** The tourhub_worker role's connection: only what the activities read and write, for every organisation. */
  db: Db;
  /** Seals planned calls and opens credentials; its keyring also encrypts every Temporal payload. */
  box: SecretBox;
  connection: NativeConnection;
  /** A prebuilt bundle (tests, images); without one the worker bundles workflows/ at start-up. */
  workflowBundle?: { codePath: string } | { code: string };
}

/** The only place that wires workflows, activities and their dependencies together. */
export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = deps.workflowBundle
    ? { workflowBundle: deps.workflowBundle }
    : { workflowsPath: WORKFLOWS_PATH };
  return Worker.create({
    connection: deps.connection,
    namespace: deps.config.temporal.namespace,
    taskQueue: deps.config.temporal.taskQueue,
    dataConverter: tourDataConverter(deps.box),
    ...workflows,
    activities: createActivities({ db: deps.db, box: deps.box, hub: deps.config.hub }),
  });
}

export { providerTaskQueue };

const WORKFLOWS_PATH = require.resolve(path.join(__dirname, 'workflows'));

/**
 * The workflow bundle as a worker would build it at start-up, for images and test suites that bundle
 * once: with the failure converter that moves failure messages into encrypted payloads.
 */
export async function bundleTourWorkflows(logger?: Parameters<typeof bundleWorkflowCode>[0]['logger']): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, failureConverterPath: FAILURE_CONVERTER_PATH, ...(logger ? { logger } : {}) });
  return code;
}

/**
 * One activity-only worker per provider, on `provider-{id}`, with the server-side rate limit set from the
 * provider's published limit. Every worker on a queue must set the same rate (the server keeps the last
 * one it was told), and these activities must never be eagerly dispatched, which would bypass it.
 */
export async function createProviderWorkers(deps: {
  config: Config;
  db: Db;
  /** Its keyring decrypts the deliveries' inputs (and encrypts their results and failures). */
  box: SecretBox;
  connection: NativeConnection;
  registry: Registry;
  connectors: ConnectorFactory;
}): Promise<Worker[]> {
  const activities = createDeliveryActivities({
    db: deps.db,
    connectors: deps.connectors,
    health: { degradedBelow: deps.config.hub.degradedBelow, minAttempts: deps.config.hub.degradedMinAttempts },
  });
  return Promise.all(
    [...deps.registry.values()].map((entry) =>
      Worker.create({
        connection: deps.connection,
        namespace: deps.config.temporal.namespace,
        taskQueue: providerTaskQueue(entry.id),
        dataConverter: tourDataConverter(deps.box),
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
