import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { signToken } from '../../api/middleware/auth';
import { loadConfig, type Config } from '../../config';
import { createDb, type Db } from '../../db/knex';
import { tourDataConverter } from '../../services/payload-codec';
import { TEST_ENV_KEYS, TEST_JWT_SECRET } from './constants';
import { privateDevStack } from './dev-stack';
import { connectFakeIntegrations, deploymentEnv, startFakeProviders, type FakeProvider, type FakeProviderId, type FakeProviders } from './fake-providers';
import { ensureMember, TEST_KEYRING, testSecretBox } from './stack';
import { killed, spawnWorker, untilOutput } from './worker-process';

/**
 * The hub on the real stack, for the end-to-end delivery tests: `tourhub dev --no-worker` (API, its own
 * embedded Postgres and Temporal dev server, in a fresh data folder) and a separate `tourhub worker`
 * process that a test can SIGKILL, both configured to send the providers' calls to loopback fakes
 * (deploymentEnv). Couples take a tour through the API; the helpers read back what was planned and
 * delivered, and wait for it.
 */

const repo = path.resolve(__dirname, '..', '..');
const bin = path.join(repo, 'bin', 'tourhub.js');

/** Retries fast enough for a test: 200 ms, 400 ms, 800 ms, then every second. */
export const HUB_WORKER_ENV = {
  HUB_RETRY_INITIAL_INTERVAL: '200ms',
  HUB_RETRY_BACKOFF: '2',
  HUB_RETRY_MAX_INTERVAL: '1s',
  HUB_RETRY_MAX_ATTEMPTS: '100',
  CONNECTOR_TIMEOUT_MS: '2000', // and so HUB_ATTEMPT_TIMEOUT 11 s: how long a call cut off by the SIGKILL waits
  // Google is an OAuth provider: the worker builds its session only when a client is configured. The
  // fake's token never expires, so this client is never called.
  GOOGLE_OAUTH_CLIENT_ID: 'fake-client-id',
  GOOGLE_OAUTH_CLIENT_SECRET: 'fake-client-secret',
  // Google down for seconds makes enough failures to judge it degraded: its breaker then probes every
  // second, not every minute, so the test is not waiting for a probe after Google is back.
  HUB_BREAKER_PROBE_INTERVAL: '1s',
  // Two-way sync's schedules tick on the quarter hour: none may fall inside these tests' checks.
  SYNC_INTERVAL: '24h',
};

export interface HubCouple {
  orgId: string;
  tourId: string;
  userId: string;
  /** As stored on the member (and so as the hub plans with it): possibly mixed case. */
  email: string;
  phone: string;
  displayName: string;
  workflowId: string;
}

export interface DeliveryRow {
  id: string;
  integration_id: string;
  workflow_id: string;
  action: string;
  idempotency_key: string;
  status: string;
  attempts: number;
  last_error: string | null;
}

export interface HubE2E {
  fakes: FakeProviders;
  db: Db;
  temporal: Client;
  config: Config;
  apiUrl: string;
  /** Milliseconds of the phases, printed when the suite ends. */
  timings: Record<string, number>;
  /** Integration id -> provider, for the integrations `connect` made. */
  providerOf: Map<string, FakeProviderId>;
  token(orgId: string, userId: string, role?: 'admin' | 'member'): Promise<string>;
  /** The fakes' integrations in an organisation (see connectFakeIntegrations); returns provider -> integration id. */
  connect(orgId: string, adminUserId: string, fakes: FakeProvider[], extra?: Parameters<typeof connectFakeIntegrations>[0]['extra']): Promise<Record<string, string>>;
  /** Members of the organisation who will take `tourId`; `person(i)` overrides the generated email, phone and name. */
  addCouples(org: { orgId: string; tourId: string }, n: number, label: string, person?: (i: number) => Partial<Pick<HubCouple, 'email' | 'phone' | 'displayName'>>): Promise<HubCouple[]>;
  /** The README's walkthrough of a five-step tour: start, step through (skipping the third), finish with feedback. */
  takeTour(couple: HubCouple, opts?: { subscriptionInterest?: string }): Promise<void>;
  deliveryRows(couples: HubCouple[]): Promise<DeliveryRow[]>;
  /** Until `callsPerCouple` calls per couple are planned and every delivery succeeded; throws with a diagnosis after timeoutMs. */
  allDelivered(couples: HubCouple[], callsPerCouple: number, timeoutMs: number): Promise<DeliveryRow[]>;
  /** Nothing in flight at any fake and nothing new for a moment: a late duplicate would show up after this. */
  settled(): Promise<void>;
  /** Forgets the fakes' calls, sets their latency, ends any outage. */
  resetFakes(latencyMs: number): void;
  startWorker(): Promise<void>;
  killWorker(): Promise<void>;
  close(): Promise<void>;
}

function stopDev(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGINT');
  });
}

/** Starts the fakes, `tourhub dev --no-worker` pointed at them, and one worker process. */
export async function startHubE2E(opts: { prefix: string; providers: FakeProviderId[] }): Promise<HubE2E> {
  const timings: Record<string, number> = {};
  const started = Date.now();
  const fakes = await startFakeProviders({ only: opts.providers });
  const stack = await privateDevStack(opts.prefix);
  const bundle = process.env[TEST_ENV_KEYS.workflowBundle]!;
  let worker: ChildProcess | undefined;
  let workerLog = '';
  let connection: Connection | undefined;
  let db: Db | undefined;
  const dev = spawn(process.execPath, [bin, 'dev', '--no-worker'], {
    cwd: repo,
    // The fakes are the providers' hosts for this deployment: the API checks and tests against them too.
    env: { ...stack.env, JWT_SECRET: TEST_JWT_SECRET, TOURHUB_SECRET_KEYS: TEST_KEYRING, SYNC_INTERVAL: HUB_WORKER_ENV.SYNC_INTERVAL, ...deploymentEnv(fakes.list) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  async function close(): Promise<void> {
    if (worker) await killed(worker, 'SIGKILL');
    await stopDev(dev);
    await connection?.close().catch(() => undefined);
    await db?.destroy().catch(() => undefined);
    await fakes.close();
    fs.rmSync(stack.dataDir, { recursive: true, force: true });
  }

  try {
    await untilOutput(dev, 'tourhub is running', 90_000);
    timings.devStartMs = Date.now() - started;
    const config = loadConfig({
      TOURHUB_ENV: 'test',
      DATABASE_URL: `postgres://tourhub:tourhub@127.0.0.1:${stack.ports.pg}/tourhub`,
      TEMPORAL_ADDRESS: `127.0.0.1:${stack.ports.temporal}`,
      TOURHUB_WORKFLOW_BUNDLE: bundle,
      JWT_SECRET: TEST_JWT_SECRET,
    });
    db = createDb(config.database.url!, { poolMax: 3 });
    connection = await Connection.connect({ address: config.temporal.address });
    // The stack's keyring (TOURHUB_SECRET_KEYS above): reads what its API and worker encrypted.
    const temporal = new Client({ connection, namespace: config.temporal.namespace, dataConverter: tourDataConverter(testSecretBox()) });
    const apiUrl = `http://127.0.0.1:${stack.ports.api}`;
    const owner = db;
    const providerOf = new Map<string, FakeProviderId>();

    // The role is the member's in organization_members, not a claim: make the membership, then the token.
    const token = async (orgId: string, userId: string, role: 'admin' | 'member' = 'member') => {
      await ensureMember(owner, { orgId, userId, role });
      return signToken({ secret: TEST_JWT_SECRET, issuer: config.jwt.issuer, audience: config.jwt.audience }, { orgId, userId });
    };

    async function call(method: string, url: string, bearer: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
      const res = await fetch(`${apiUrl}${url}`, { method, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    }

    async function deliveryRows(couples: HubCouple[]): Promise<DeliveryRow[]> {
      return owner('integration_deliveries')
        .select('id', 'integration_id', 'workflow_id', 'action', 'idempotency_key', 'status', 'attempts', 'last_error')
        .whereIn(
          'workflow_id',
          couples.map((c) => c.workflowId),
        );
    }

    /** What is still open: rows not succeeded, the pending activities of their workflows, the fakes, the worker's log. */
    async function diagnose(couples: HubCouple[], callsPerCouple: number): Promise<string> {
      const rows = await deliveryRows(couples);
      const open = rows.filter((r) => r.status !== 'succeeded');
      const lines = [`${rows.length} of ${couples.length * callsPerCouple} planned, ${open.length} not succeeded:`];
      for (const r of open.slice(0, 10)) lines.push(`  ${r.status} ${r.action} attempts=${r.attempts} ${r.last_error ?? ''} ${r.idempotency_key}`);
      const planned = new Set(rows.map((r) => r.workflow_id));
      const suspects = [...new Set([...open.map((r) => r.workflow_id), ...couples.map((c) => c.workflowId).filter((w) => !planned.has(w))])];
      for (const workflowId of suspects.slice(0, 3)) {
        try {
          const d = await temporal.workflow.getHandle(workflowId).describe();
          lines.push(`  workflow ${workflowId}: ${d.status.name}, history ${d.historyLength} events`);
          for (const a of d.raw.pendingActivities ?? []) {
            lines.push(`    pending ${a.activityType?.name} state=${String(a.state)} attempt=${a.attempt} last failure: ${a.lastFailure?.message ?? '-'}`);
          }
        } catch (err) {
          lines.push(`  workflow ${workflowId}: ${String(err)}`);
        }
      }
      lines.push(fakes.summary(), `worker log (tail):\n${workerLog.slice(-3000)}`);
      return lines.join('\n');
    }

    const hub: HubE2E = {
      fakes,
      db: owner,
      temporal,
      config,
      apiUrl,
      timings,
      providerOf,
      token,
      async connect(orgId, adminUserId, list, extra) {
        const ids = await connectFakeIntegrations({ apiUrl, adminToken: await token(orgId, adminUserId, 'admin'), orgId, db: owner, box: testSecretBox(), fakes: list, ...(extra ? { extra } : {}) });
        for (const [provider, id] of Object.entries(ids)) providerOf.set(id, provider as FakeProviderId);
        return ids;
      },
      async addCouples(org, n, label, person) {
        const couples = Array.from({ length: n }, (_, i): HubCouple => {
          const userId = crypto.randomUUID();
          return {
            orgId: org.orgId,
            tourId: org.tourId,
            userId,
            email: `${label}-${i}-${userId.slice(0, 8)}@demo.tourhub.test`,
            phone: `+1555${String(crypto.randomInt(0, 10_000_000)).padStart(7, '0')}`,
            displayName: `Couple${i} ${label}`,
            workflowId: `tour:${org.orgId}:${userId}:${org.tourId}`,
            ...person?.(i),
          };
        });
        await owner('organization_members').insert(
          couples.map((c) => ({ organization_id: c.orgId, user_id: c.userId, role: 'member', display_name: c.displayName, email: c.email, phone: c.phone })),
        );
        return couples;
      },
      async takeTour(couple, tourOpts = {}) {
        const bearer = await token(couple.orgId, couple.userId);
        const start = await call('POST', `/api/tours/${couple.tourId}/start`, bearer, { device_type: 'desktop' });
        if (start.status !== 201) throw new Error(`start: ${start.status} ${JSON.stringify(start.body)}`);
        const progress = String(start.body.progress_id);
        const finish = {
          action: 'next_step',
          user_feedback: { rating: 5, was_helpful: true, feedback: 'Lovely tour' },
          ...(tourOpts.subscriptionInterest ? { subscription_interest: { plan: tourOpts.subscriptionInterest } } : {}),
        };
        for (const move of [{ action: 'next_step' }, { action: 'next_step' }, { action: 'skip_step' }, { action: 'next_step' }, finish]) {
          const res = await call('PUT', `/api/tours/progress/${progress}`, bearer, move);
          if (res.status !== 200) throw new Error(`${move.action}: ${res.status} ${JSON.stringify(res.body)}`);
        }
      },
      deliveryRows,
      async allDelivered(couples, callsPerCouple, timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const rows = await deliveryRows(couples);
          if (rows.length === couples.length * callsPerCouple && rows.every((r) => r.status === 'succeeded')) return rows;
          if (Date.now() > deadline) throw new Error(`deliveries not all succeeded within ${timeoutMs / 1000} s\n${await diagnose(couples, callsPerCouple)}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      },
      async settled() {
        await fakes.list[0]!.waitFor(() => fakes.inFlight().length === 0, 10_000, 'no call in flight');
        const before = fakes.calls().length;
        await new Promise((r) => setTimeout(r, 1500));
        const after = fakes.calls().length;
        if (after !== before) throw new Error(`${after - before} calls reached the fakes after the deliveries succeeded:\n${fakes.summary()}`);
      },
      resetFakes(latencyMs) {
        for (const f of fakes.list) {
          f.clearCalls();
          f.setLatency(latencyMs);
          f.up();
        }
      },
      async startWorker() {
        const workerStarted = Date.now();
        worker = await spawnWorker(config, { ...HUB_WORKER_ENV, ...deploymentEnv(fakes.list) });
        // spawnWorker keeps draining the pipes; keep the tail of what the worker says, for diagnosis.
        const keep = (chunk: Buffer) => {
          workerLog = (workerLog + chunk.toString()).slice(-20_000);
        };
        worker.stdout!.on('data', keep);
        worker.stderr!.on('data', keep);
        timings.workerStartMs ??= Date.now() - workerStarted;
      },
      async killWorker() {
        if (worker) await killed(worker, 'SIGKILL');
        worker = undefined;
      },
      close,
    };
    return hub;
  } catch (err) {
    await close();
    throw err;
  }
}
