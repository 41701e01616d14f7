import crypto from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { Express } from 'express';
import pino from 'pino';
import { createApp, type AppDeps } from '../../api/app';
import { createTokenVerifier, signToken } from '../../api/middleware/auth';
import { createProgressFeed } from '../../services/progress-feed';
import { createSyncControl, type SyncControl } from '../../services/sync';
import { createDeliveryReplays, createTourWorkflows, createUserWorkflows, type DeliveryReplays, type TourWorkflows } from '../../services/temporal';
import { pseudonymKey } from '../../db/pseudonyms';
import { appDatabaseUrl, loadConfig, workerDatabaseUrl, type Config } from '../../config';
import { createDb, type Db } from '../../db/knex';
import type { OAuthClient } from '../../connectors/oauth';
import { createOutboundGuard, type OutboundGuard } from '../../connectors/outbound';
import { registry, type Registry } from '../../connectors/registry';
import { createSecretBox, parseKeyring, type SecretBox } from '../../db/secrets';
import { createWorker } from '../../worker';
import { tourDataConverter } from '../../services/payload-codec';
import { TEST_APP_PASSWORD, TEST_ENV_KEYS, TEST_JWT_SECRET, TEST_WORKER_PASSWORD } from './constants';

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
    DATABASE_WORKER_PASSWORD: TEST_WORKER_PASSWORD,
    TEMPORAL_ADDRESS: required(TEST_ENV_KEYS.temporalAddress),
    TEMPORAL_TASK_QUEUE: `test-${crypto.randomUUID()}`,
    JWT_SECRET: TEST_JWT_SECRET,
    TOURHUB_WORKFLOW_BUNDLE: required(TEST_ENV_KEYS.workflowBundle),
    // Suites drive one member through many moves a minute; the rate-limit suite sets the product's figures.
    RATE_LIMIT_PROGRESS_PER_MINUTE: '10000',
    RATE_LIMIT_STARTS_PER_MINUTE: '10000',
    ...overrides,
  });
}

/**
 * A signed token for a test user. By default the user is made a member of the organisation with the
 * token's role first (the API takes the role from membership, not from the token); a user who is already
 * a member must have that role, so a test cannot silently ask for an admin it does not have.
 * `membership: 'as-is'` leaves the membership table alone (non-members, ids in odd case).
 */
export async function tokenFor(
  stack: { config: Config; ownerDb: Db },
  claims: { orgId: string; userId: string; role?: 'admin' | 'member' },
  opts: { ttlSeconds?: number; secret?: string; membership?: 'ensure' | 'as-is' } = {},
): Promise<string> {
  const role = claims.role ?? 'member';
  if ((opts.membership ?? 'ensure') === 'ensure') await ensureMember(stack.ownerDb, { orgId: claims.orgId, userId: claims.userId, role });
  return signToken(
    { secret: opts.secret ?? TEST_JWT_SECRET, issuer: stack.config.jwt.issuer, audience: stack.config.jwt.audience },
    { orgId: claims.orgId, userId: claims.userId },
    opts.ttlSeconds ?? 3600,
  );
}

/** Makes the user a member of the organisation with `role`; throws if they already are one with another role. */
export async function ensureMember(db: Db, member: { orgId: string; userId: string; role: 'admin' | 'member' }): Promise<void> {
  const key = { organization_id: member.orgId.toLowerCase(), user_id: member.userId.toLowerCase() };
  await db('organization_members').insert({ ...key, role: member.role }).onConflict(['organization_id', 'user_id']).ignore();
  const row = await db('organization_members').select('role').where(key).first();
  if (row?.role !== member.role) throw new Error(`test user ${member.userId} is a ${row?.role} of ${member.orgId}, not a ${member.role}`);
}

export interface Stack {
  config: Config;
  app: Express;
  /** Owner connection: fixtures and assertions that must see past RLS. */
  ownerDb: Db;
  /** The API's non-owner connection. */
  appDb: Db;
  /** The worker's least-privileged connection (tourhub_worker): what in-process workers use. */
  workerDb: Db;
  client: Client;
  tours: TourWorkflows;
  /** What the API's replay routes start replays with: the real one unless the suite passed its own. */
  replays: DeliveryReplays;
  /** The app's realtime, erasure, analytics and two-way sync dependencies, for a suite that builds a second app. */
  lifecycle: Pick<AppDeps, 'realtime' | 'userWorkflows' | 'analytics' | 'sync'>;
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
  const box = opts.box ?? testSecretBox();
  const ownerDb = createDb(config.database.url!, { poolMax: 5 });
  const appDb = createDb(appDatabaseUrl(config), { poolMax: 10 });
  // The worker runs as its least-privileged role, as in production: a grant its activities lack fails here.
  const workerDb = createDb(workerDatabaseUrl(config), { poolMax: 5 });
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: tourDataConverter(box) });
  const tours = createTourWorkflows(client, config);
  const replays = opts.replays ?? createDeliveryReplays(client, config);
  const sync = opts.sync ?? createSyncControl(client, config);
  const lifecycle: Stack['lifecycle'] = {
    realtime: { feed: createProgressFeed({ connectionString: appDatabaseUrl(config), logger: pino({ level: 'silent' }) }), heartbeatMs: config.analytics.heartbeatMs },
    userWorkflows: createUserWorkflows(client, config),
    analytics: { beaconTokenTtlSeconds: config.analytics.beaconTokenTtlSeconds, pseudonymKey: pseudonymKey(config.analytics.pseudonymKey, box) },
    sync,
  };
  const app = createApp({
    db: appDb,
    tours,
    replays,
    rateLimits: config.rateLimits,
    verifier: createTokenVerifier({ secret: TEST_JWT_SECRET, issuer: config.jwt.issuer, audience: config.jwt.audience }),
    membershipTtlMs: config.jwt.membershipCacheTtlMs,
    logger: pino({ level: 'silent' }),
    codec: { uiOrigins: config.codec.uiOrigins, adminOrgId: config.codec.adminOrgId },
    integrations: {
      box,
      registry: opts.registry ?? registry,
      oauthClients: opts.oauthClients ?? {},
      publicUrl: 'http://tourhub.test',
      connectorTimeoutMs: 2000,
      outbound,
      ...(opts.connectionTestsPerOrg !== undefined ? { connectionTestsPerOrg: opts.connectionTestsPerOrg } : {}),
    },
    ...lifecycle,
    webhooks: { secretGraceMs: config.webhooks.secretGraceMs },
  });

  let nativeConnection: NativeConnection | undefined;
  let running: Promise<void> | undefined;
  const stack: Stack = {
    config,
    app,
    ownerDb,
    appDb,
    workerDb,
    client,
    tours,
    replays,
    lifecycle,
    sync,
    worker: undefined,
    async startWorker() {
      quietRuntime();
      nativeConnection ??= await NativeConnection.connect({ address: config.temporal.address });
      const worker = await createWorker({
        config,
        db: workerDb,
        box,
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
      await lifecycle.realtime.feed.close();
      await connection.close();
      await Promise.all([ownerDb.destroy(), appDb.destroy(), workerDb.destroy()]);
      if (!opts.outbound) await outbound.close();
    },
  };
  if (opts.worker !== false) await stack.startWorker();
  return stack;
}
