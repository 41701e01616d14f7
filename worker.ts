import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker, type LogEntry, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, healthThresholds } from './activities';
import type { ConnectorFactory } from './activities/connector-factory';
import { createDeliveryActivities } from './activities/deliver';
import { createRetentionActivities } from './activities/retention';
import { createPushChannelActivities } from './activities/push-channels';
import { createPullActivities, createSyncActivities } from './activities/sync';
import { createWebhookActivities } from './activities/webhooks';
import { createOutboundGuard, type OutboundGuard } from './connectors/outbound';
import type { Config } from './config';
import { registry as defaultRegistry, type Registry } from './connectors/registry';
import type { Db } from './db/knex';
import { pseudonymKey } from './db/pseudonyms';
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
  /** The outbound rules webhooks are sent under; default: the config's. */
  outbound?: OutboundGuard;
  /** Which providers two-way sync reads (default: the registry). */
  registry?: Registry;
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
    dataConverter: tourDataConverter(deps.box, { encrypt: deps.config.temporal.encryptPayloads }),
    ...workflows,
    activities: {
      ...createActivities({ db: deps.db, box: deps.box, hub: deps.config.hub }),
      ...createRetentionActivities({
        db: deps.db,
        pseudonymKey: pseudonymKey(deps.config.analytics.pseudonymKey, deps.box),
        retentionDays: deps.config.analytics.retentionDays,
        aggregateRetentionDays: deps.config.analytics.aggregateRetentionDays,
      }),
      ...createWebhookActivities({
        db: deps.db,
        box: deps.box,
        outbound: deps.outbound ?? createOutboundGuard(deps.config.outbound),
        timeoutMs: deps.config.webhooks.timeoutMs,
        pause: deps.config.webhooks.pause,
      }),
      ...createSyncActivities({ db: deps.db, box: deps.box, registry: deps.registry ?? defaultRegistry, sync: deps.config.sync, retry: deps.config.hub.retry }),
    },
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

/** temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY */
const ACTIVITY_TASK_QUEUE = 2;

/**
 * A provider queue's rates, set on the server (UpdateTaskQueueConfig): each fairness key (an integration,
 * so one organisation's account) at the provider's published per-account limit, and the whole queue at
 * PROVIDER_QUEUE_RPS_LIMIT, our own ceiling on one vendor across every organisation. A queue limit set
 * this way overrides any a worker asks for (an older worker's `maxTaskQueueActivitiesPerSecond`, which
 * capped the queue at one account's rate), and every worker sets the same values, so the last one wins
 * harmlessly. A server without fairness (switched off, or too old) keeps working unfairly: logged.
 */
export async function configureProviderQueue(
  connection: Pick<NativeConnection, 'workflowService'>,
  opts: { namespace: string; taskQueue: string; perKeyRps: number; queueRps: number },
): Promise<void> {
  const reason = (what: string) => ({ reason: `tourhub worker: ${what}` });
  await connection.workflowService.updateTaskQueueConfig({
    namespace: opts.namespace,
    identity: 'tourhub-worker',
    taskQueue: opts.taskQueue,
    taskQueueType: ACTIVITY_TASK_QUEUE,
    updateQueueRateLimit: { rateLimit: { requestsPerSecond: opts.queueRps }, ...reason('PROVIDER_QUEUE_RPS_LIMIT') },
    updateFairnessKeyRateLimitDefault: { rateLimit: { requestsPerSecond: opts.perKeyRps }, ...reason("the provider's published per-account limit") },
  });
}

/**
 * One activity-only worker per provider, on `provider-{id}`. The provider's published limit is per
 * account, so the server applies it per integration (configureProviderQueue); the worker itself sets no
 * queue-wide rate, which would hold every organisation to one account's limit. These activities are never
 * eagerly dispatched, which would bypass the server's limits.
 */
export async function createProviderWorkers(deps: {
  config: Config;
  db: Db;
  /** Its keyring decrypts the deliveries' inputs (and encrypts their results and failures). */
  box: SecretBox;
  connection: NativeConnection;
  registry: Registry;
  connectors: ConnectorFactory;
  logger?: Logger;
}): Promise<Worker[]> {
  // Provider calls, reading the provider for two-way sync, and calendar channels made and renewed
  // through the provider's connector: all paced by the queue's per-integration rate.
  const activities = {
    ...createDeliveryActivities({ db: deps.db, connectors: deps.connectors, health: healthThresholds(deps.config.hub) }),
    ...createPullActivities({ db: deps.db, connectors: deps.connectors, pageSize: deps.config.sync.pageSize }),
    ...createPushChannelActivities({ db: deps.db, connectors: deps.connectors, publicUrl: deps.config.publicUrl, ttlMs: deps.config.webhooks.channelTtlMs }),
  };
  const { namespace } = deps.config.temporal;
  return Promise.all(
    [...deps.registry.values()].map(async (entry) => {
      const taskQueue = providerTaskQueue(entry.id);
      try {
        await configureProviderQueue(deps.connection, { namespace, taskQueue, perKeyRps: entry.ratePerSecond, queueRps: deps.config.providers.queueRpsLimit });
      } catch (err) {
        deps.logger?.warn({ err, taskQueue }, 'could not set the provider queue\'s fairness rates; its calls run without per-organisation limits');
      }
      return Worker.create({
        connection: deps.connection,
        namespace,
        taskQueue,
        dataConverter: tourDataConverter(deps.box, { encrypt: deps.config.temporal.encryptPayloads }),
        activities,
        // Provider calls wait on the network, not the CPU: enough slots for many organisations' calls at once.
        maxConcurrentActivityTaskExecutions: deps.config.providers.workerConcurrency,
      });
    }),
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
