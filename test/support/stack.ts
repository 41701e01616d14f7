import crypto from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../api/app';
import { createTokenVerifier, signToken } from '../../api/middleware/auth';
import { createSyncControl, type SyncControl } from '../../services/sync';
import { createDeliveryReplays, createTourWorkflows, type DeliveryReplays, type TourWorkflows } from '../../services/temporal';
import { appDatabaseUrl, loadConfig, type Config } from '../../config';
import { createDb, type Db } from '../../db/knex';
import type { OAuthClient } from '../../connectors/oauth';
import { createOutboundGuard, type OutboundGuard } from '../../connectors/outbound';
import { registry, type Registry } from '../../connectors/registry';
import { createSecretBox, parseKeyring, type SecretBox } from '../../db/secrets';
import { createWorker } from '../../worker';
import { TEST_APP_PASSWORD, TEST_ENV_KEYS, TEST_JWT_SECRET } from './constants';

export const TEST_KEYRING = 'old:' + Buffer.alloc(32, 7).toString('base64') + ',k1:' + Buffer.alloc(32, 9).toString('base64');

/** Credentials encryption with a fixed test keyring (active key k1). */
export function testSecretBox(spec = TEST_KEYRING, active = 'k1'): SecretBox {
  return createSecretBox(parseKeyring(spec), active);
}

function required(key: string): string {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: run the tests through jest (test/support/global-setup.ts)`);
  return value;
}

/** A config pointing at the shared test Postgres and Temporal, with a task queue of the suite's own. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    TOURHUB_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: required(TEST_ENV_KEYS.pgUrl),
    DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
    TEMPORAL_ADDRESS: required(TEST_ENV_KEYS.temporalAddress),
    TEMPORAL_TASK_QUEUE: `test-${crypto.randomUUID()}`,
    JWT_SECRET: TEST_JWT_SECRET,
    TOURHUB_WORKFLOW_BUNDLE: required(TEST_ENV_KEYS.workflowBundle),
    ...overrides,
  });
}

export function tokenFor(
  config: Config,
  claims: { orgId: string; userId: string; role?: 'admin' | 'member' },
  opts: { ttlSeconds?: number; secret?: string } = {},
): Promise<string> {
  return signToken(
    { secret: opts.secret ?? TEST_JWT_SECRET, issuer: config.jwt.issuer, audience: config.jwt.audience },
    { orgId: claims.orgId, userId: claims.userId, role: claims.role ?? 'member' },
    opts.ttlSeconds ?? 3600,
  );
}

export interface Stack {
  config: Config;
  app: Express;
  /** Owner connection: fixtures and assertions that must see past RLS. */
  ownerDb: Db;
  /** The API's non-owner connection. */
  appDb: Db;
  client: Client;
  tours: TourWorkflows;
  /** What the API's replay routes start replays with: the real one unless the suite passed its own. */
  replays: DeliveryReplays;
  /** What the API asks of two-way sync (schedules, passes): the real one unless the suite passed its own. */
  sync: SyncControl;
  worker: Worker | undefined;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

let runtimeInstalled = false;
/** Keeps the SDK core's INFO lines (worker state changes) out of the test output. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed by an earlier suite in this process: its logger stays.
  }
}

/** The real API and (optionally) an in-process worker against the shared servers; close() releases all. */
export async function startStack(
  opts: {
    worker?: boolean;
    config?: Record<string, string>;
    box?: SecretBox;
    registry?: Registry;
    oauthClients?: Partial<Record<string, OAuthClient>>;
    replays?: DeliveryReplays;
    sync?: SyncControl;
    /** The API's outbound rules; default: the product's, from the config (no network allowed). */
    outbound?: OutboundGuard;
    connectionTestsPerOrg?: number;
  } = {},
): Promise<Stack> {
  const config = testConfig(opts.config);
  const outbound = opts.outbound ?? createOutboundGuard(config.outbound);
  const ownerDb = createDb(config.database.url!, { poolMax: 5 });
  const appDb = createDb(appDatabaseUrl(config), { poolMax: 10 });
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const tours = createTourWorkflows(client, config);
  const replays = opts.replays ?? createDeliveryReplays(client, config);
  const sync = opts.sync ?? createSyncControl(client, config);
  const app = createApp({
    db: appDb,
    tours,
    replays,
    sync,
    verifier: createTokenVerifier({ secret: TEST_JWT_SECRET, issuer: config.jwt.issuer, audience: config.jwt.audience }),
    logger: pino({ level: 'silent' }),
    integrations: {
      box: opts.box ?? testSecretBox(),
      registry: opts.registry ?? registry,
      oauthClients: opts.oauthClients ?? {},
      publicUrl: 'http://tourhub.test',
      connectorTimeoutMs: 2000,
      outbound,
      ...(opts.connectionTestsPerOrg !== undefined ? { connectionTestsPerOrg: opts.connectionTestsPerOrg } : {}),
    },
  });

  let nativeConnection: NativeConnection | undefined;
  let running: Promise<void> | undefined;
  const stack: Stack = {
    config,
    app,
    ownerDb,
    appDb,
    client,
    tours,
    replays,
    sync,
    worker: undefined,
    async startWorker() {
      quietRuntime();
      nativeConnection ??= await NativeConnection.connect({ address: config.temporal.address });
      const worker = await createWorker({
        config,
        db: ownerDb,
        box: opts.box ?? testSecretBox(),
        connection: nativeConnection,
        workflowBundle: { codePath: config.temporal.workflowBundle! },
      });
      stack.worker = worker;
      running = worker.run();
    },
    async stopWorker() {
      if (stack.worker && stack.worker.getState() === 'RUNNING') stack.worker.shutdown();
      await running;
      stack.worker = undefined;
      running = undefined;
    },
    async close() {
      await stack.stopWorker();
      await nativeConnection?.close();
      await connection.close();
      await Promise.all([ownerDb.destroy(), appDb.destroy()]);
      if (!opts.outbound) await outbound.close();
    },
  };
  if (opts.worker !== false) await stack.startWorker();
  return stack;
}
