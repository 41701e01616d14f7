import http from 'node:http';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createApp } from '../api/app';
import { createTokenVerifier } from '../api/middleware/auth';
import { createProgressFeed } from '../services/progress-feed';
import { ensureRetentionSchedule, RETENTION_SCHEDULE_ID } from '../services/retention-schedule';
import { createSyncControl, reconcileSchedules } from '../services/sync';
import { connectTemporal, createDeliveryReplays, createTourWorkflows, createUserWorkflows } from '../services/temporal';
import { temporalConnectionOptions } from '../services/temporal-connection';
import { appDatabaseUrl, ownerDatabaseUrl, workerDatabaseUrl, type Config } from '../config';
import { createDb, type Db } from '../db/knex';
import { migrateLatest, setAppRolePassword, setWorkerRolePassword } from '../db/migrate';
import { createOutboundGuard, type OutboundGuard } from '../connectors/outbound';
import { registry, type Registry } from '../connectors/registry';
import { pseudonymKey } from '../db/pseudonyms';
import type { SecretBox } from '../db/secrets';
import { createConnectorFactory } from '../activities/connector-factory';
import { pgDeliveryGuard } from '../db/repositories/deliveries';
import { createProviderWorkers, createWorker, installRuntime } from '../worker';
import { createWebhookRelay, runWebhookRelay } from '../services/webhook-relay';
import { oauthClients } from './oauth-clients';

/** The pieces `tourhub dev`, `tourhub api` and `tourhub worker` start, each with its own stop. */

/**
 * The deployment's outbound rules (connectors/outbound.ts), one per process: where provider calls may
 * go, which addresses are never dialled, how much of an answer is read. Provider ids in
 * CONNECTOR_BASE_URLS must be ones the registry knows, so a typo fails at start, not at the first call.
 */
export function outboundGuard(config: Config, providers: Registry = registry): OutboundGuard {
  const unknown = Object.keys(config.outbound.baseUrls).filter((id) => !providers.has(id));
  if (unknown.length > 0) {
    throw new Error(`CONNECTOR_BASE_URLS names unknown providers: ${unknown.join(', ')} (known: ${[...providers.keys()].sort().join(', ')})`);
  }
  return createOutboundGuard(config.outbound);
}

export async function migrate(config: Config, logger: Logger): Promise<void> {
  const db = createDb(ownerDatabaseUrl(config), { poolMax: 2, applicationName: 'tourhub-migrate' });
  try {
    const applied = await migrateLatest(db);
    if (!config.database.appUrl) await setAppRolePassword(db, config.database.appPassword);
    if (!config.database.workerUrl) await setWorkerRolePassword(db, config.database.workerPassword);
    logger.info({ applied: applied.length }, applied.length ? 'migrations applied' : 'schema up to date');
  } finally {
    await db.destroy();
  }
}

export async function startApi(
  config: Config,
  logger: Logger,
  jwtSecret: string | undefined,
  box: SecretBox,
): Promise<{ url: string; stop(): Promise<void>; db: Db }> {
  const outbound = outboundGuard(config);
  const db = createDb(appDatabaseUrl(config), { poolMax: config.database.poolMax, applicationName: 'tourhub-api' });
  const client = await connectTemporal(config, box);
  const feed = createProgressFeed({ connectionString: appDatabaseUrl(config), logger, applicationName: 'tourhub-api-feed' });
  const app = createApp({
    db,
    tours: createTourWorkflows(client, config),
    replays: createDeliveryReplays(client, config),
    rateLimits: config.rateLimits,
    sync: createSyncControl(client, config),
    verifier: createTokenVerifier({
      ...(jwtSecret ? { secret: jwtSecret } : {}),
      ...(config.jwt.jwksUrl ? { jwksUrl: config.jwt.jwksUrl } : {}),
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
    }),
    membershipTtlMs: config.jwt.membershipCacheTtlMs,
    logger,
    codec: { uiOrigins: config.codec.uiOrigins, adminOrgId: config.codec.adminOrgId },
    integrations: {
      box,
      registry,
      oauthClients: oauthClients(config, outbound),
      publicUrl: config.publicUrl,
      connectorTimeoutMs: config.connectors.timeoutMs,
      outbound,
      connectionTestsPerOrg: config.connectors.testConcurrencyPerOrg,
    },
    realtime: { feed, heartbeatMs: config.analytics.heartbeatMs },
    userWorkflows: createUserWorkflows(client, config),
    analytics: { beaconTokenTtlSeconds: config.analytics.beaconTokenTtlSeconds, pseudonymKey: pseudonymKey(config.analytics.pseudonymKey, box) },
    webhooks: { secretGraceMs: config.webhooks.secretGraceMs },
  });
  const server = http.createServer(app);
  // Keep-alive longer than common load balancers' idle timeout, so they never reuse a closed socket.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.http.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
  return {
    url: `http://${host}:${port}`,
    db,
    async stop() {
      // Stop accepting, let in-flight requests finish (up to 10 s), and close keep-alive sockets as they
      // go idle: closing only the idle ones once would leave busy ones open for the 65 s keep-alive.
      // Open progress streams never finish on their own: closing the feed ends them (clients reconnect
      // to another process with Last-Event-ID).
      const closingFeed = feed.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        const sweep = setInterval(() => server.closeIdleConnections(), 100);
        const deadline = setTimeout(() => server.closeAllConnections(), 10_000);
        server.once('close', () => {
          clearInterval(sweep);
          clearTimeout(deadline);
        });
        server.closeIdleConnections();
      });
      await closingFeed;
      await client.connection.close();
      await db.destroy();
      await outbound.close();
    },
  };
}

/**
 * The provider queues' workers as `tourhub worker` runs them: connectors built from the integration
 * rows with the configured OAuth clients, and Postgres delivery guards. `providers` replaces the
 * registry (benchmarks raise its rates).
 */
export function startProviderWorkers(deps: {
  config: Config;
  db: Db;
  box: SecretBox;
  connection: NativeConnection;
  providers?: Registry;
  outbound?: OutboundGuard;
  logger?: Logger;
}): Promise<Worker[]> {
  const { config, db, box, connection } = deps;
  const providers = deps.providers ?? registry;
  const outbound = deps.outbound ?? outboundGuard(config, providers);
  const clients = oauthClients(config, outbound);
  return createProviderWorkers({
    config,
    db,
    box,
    connection,
    registry: providers,
    ...(deps.logger ? { logger: deps.logger } : {}),
    connectors: createConnectorFactory({
      db,
      box,
      registry: providers,
      timeoutMs: config.connectors.timeoutMs,
      outbound,
      refreshGrants: Object.fromEntries(Object.entries(clients).map(([id, c]) => [id, c!.refreshGrant])),
      guardFor: (row) => pgDeliveryGuard(db, row),
    }),
  });
}

export async function startWorker(
  config: Config,
  logger: Logger,
  box: SecretBox,
): Promise<{ worker: Worker; stop(): Promise<void> }> {
  installRuntime(logger, config.logLevel);
  const outbound = outboundGuard(config);
  // Not the owner: the worker's role may read and write only what its activities need (migrations/*_create_worker_role.ts).
  const db = createDb(workerDatabaseUrl(config), { poolMax: config.database.poolMax, applicationName: 'tourhub-worker' });
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const worker = await createWorker({
    config,
    db,
    box,
    connection,
    outbound,
    ...(config.temporal.workflowBundle ? { workflowBundle: { codePath: config.temporal.workflowBundle } } : {}),
  });
  const providers = await startProviderWorkers({ config, db, box, connection, outbound, logger });
  const scheduler = await connectTemporal(config, box);
  try {
    const schedule = await ensureRetentionSchedule(scheduler, config);
    logger.info({ scheduleId: RETENTION_SCHEDULE_ID, cron: config.analytics.retentionCron, schedule }, 'retention schedule ready');
  } finally {
    await scheduler.connection.close();
  }
  const all = [worker, ...providers];
  const running = all.map((w) => w.run());
  for (const r of running) r.catch((err) => logger.error({ err }, 'worker stopped with an error'));
  // The outbox relay: outbound webhooks and calendar channels (services/webhook-relay.ts).
  const client = await connectTemporal(config, box);
  const relay = runWebhookRelay(createWebhookRelay({ db, client, taskQueue: config.temporal.taskQueue, config: config.webhooks, publicUrl: config.publicUrl, logger }), {
    relayIntervalMs: config.webhooks.relayIntervalMs,
    channelSweepMs: config.webhooks.channelSweepMs,
    logger,
  });
  // Every readable integration has its sync schedule, and no other: whatever the API could not set while
  // Temporal was away, and integrations from before two-way sync.
  try {
    const schedules = await reconcileSchedules(db, createSyncControl(client, config), registry);
    logger.info(schedules, 'sync schedules reconciled');
  } catch (err) {
    logger.warn({ err }, 'sync schedules not reconciled; integrations changed through the API still get theirs');
  }
  logger.info({ taskQueue: config.temporal.taskQueue, providerQueues: providers.length }, 'worker polling');
  return {
    worker,
    async stop() {
      await relay.stop();
      await client.connection.close();
      for (const w of all) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.all(running.map((r) => r.catch(() => undefined)));
      await connection.close();
      await db.destroy();
      await outbound.close();
    },
  };
}
