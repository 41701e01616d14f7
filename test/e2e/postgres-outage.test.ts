import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { signToken } from '../../api/middleware/auth';
import { createDb, type Db } from '../../db/knex';
import { DEMO } from '../../db/seeds/demo';
import { TEST_JWT_SECRET } from '../support/constants';
import { privateDevStack } from '../support/dev-stack';
import { freePort } from '../support/ports';
import { startPostgresProcess, type PostgresProcess } from '../support/postgres-process';
import { untilOutput } from '../support/worker-process';

/**
 * Issue 10: with Postgres stopped for a few seconds under load, tour workflow runs failed for good (the
 * `loadTour` local activity gave up after about 3 s), clients got `409 AcceptedUpdateCompletedWorkflow`
 * on start and `500 internal_error` for database errors. Here `tourhub dev` (API, worker, Temporal) and
 * a second `tourhub api` run against a Postgres the test stops for OUTAGE_MS while COUPLES couples start
 * and take the demo tour through both APIs, retrying 503s after Retry-After as a client should. No run
 * may fail, every answer must be a 2xx or a 503 with Retry-After, and every accepted move must end up
 * in Postgres.
 */

const repo = path.resolve(__dirname, '..', '..');
const bin = path.join(repo, 'bin', 'tourhub.js');
const COUPLES = 20;
const OUTAGE_MS = 10_000;
/** The demo couple tour has five steps: four moves on, and the fifth completes it. */
const MOVES = 5;
/** Every client gives up after this, so a hang fails the test instead of holding it. */
const CLIENT_DEADLINE_MS = 90_000;

interface Answer {
  couple: number;
  what: string;
  status: number;
  code: string | undefined;
  retryAfter: string | null;
}

let dataDir: string;
let pgDir: string;
let pg: PostgresProcess | undefined;
let pgPort: number;
let dev: ChildProcess | undefined;
let api2: ChildProcess | undefined;
let db: Db | undefined;
let connection: Connection | undefined;
let temporal: Client;
let apiUrls: string[];
const startPostgres = () => startPostgresProcess({ dir: pgDir, port: pgPort });

function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGINT');
  });
}

beforeAll(async () => {
  const stack = await privateDevStack('tourhub-outage-e2e-');
  dataDir = stack.dataDir;
  pgDir = path.join(dataDir, 'external-postgres');
  pgPort = stack.ports.pg;
  pg = await startPostgres();
  const api2Port = await freePort();
  // Postgres is not `tourhub dev`'s own here (DATABASE_URL), so the test can stop and start it.
  const env = { ...stack.env, DATABASE_URL: pg.url, JWT_SECRET: TEST_JWT_SECRET };
  dev = spawn(process.execPath, [bin, 'dev'], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  await untilOutput(dev, 'tourhub is running', 120_000);
  api2 = spawn(process.execPath, [bin, 'api'], {
    cwd: repo,
    env: { ...env, PORT: String(api2Port), TEMPORAL_ADDRESS: `127.0.0.1:${stack.ports.temporal}`, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await untilOutput(api2, 'API listening', 60_000);
  apiUrls = [`http://127.0.0.1:${stack.ports.api}`, `http://127.0.0.1:${api2Port}`];
  db = createDb(pg.url, { poolMax: 3 });
  connection = await Connection.connect({ address: `127.0.0.1:${stack.ports.temporal}` });
  // A client without the codec, on purpose: it only counts runs by status, which reads no payload.
  temporal = new Client({ connection });
}, 180_000);

afterAll(async () => {
  await stopProcess(api2);
  await stopProcess(dev);
  await connection?.close().catch(() => undefined);
  await db?.destroy().catch(() => undefined);
  await pg?.stop().catch(() => undefined);
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

const token = (userId: string) =>
  signToken({ secret: TEST_JWT_SECRET, issuer: 'tourhub', audience: 'tourhub-api' }, { orgId: DEMO.orgId, userId });

async function call(base: string, method: string, url: string, bearer: string, body: unknown) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; details?: Record<string, unknown> } } & Record<string, unknown>;
  return { status: res.status, body: json, retryAfter: res.headers.get('retry-after') };
}

/**
 * One couple as a careful client: every request retried after Retry-After while it is a 503, moves
 * carrying the version the client saw, so a retry of a move that did land is refused (409
 * version_conflict) instead of applied twice. Returns the versions the API accepted.
 */
async function takeTour(couple: number, userId: string, answers: Answer[], startAt: number): Promise<number[]> {
  const bearer = await token(userId);
  const base = apiUrls[couple % apiUrls.length]!;
  const deadline = startAt + CLIENT_DEADLINE_MS;
  const send = async (what: string, method: string, url: string, body: unknown) => {
    for (;;) {
      const res = await call(base, method, url, bearer, body);
      answers.push({ couple, what, status: res.status, code: res.body.error?.code, retryAfter: res.retryAfter });
      if (res.status !== 503 || Date.now() > deadline) return res;
      await new Promise((r) => setTimeout(r, Number(res.retryAfter ?? 1) * 1000));
    }
  };
  const accepted: number[] = [];
  const started = await send('start', 'POST', `/api/tours/${DEMO.coupleTourId}/start`, { device_type: 'mobile' });
  if (started.status !== 201 && started.status !== 200) return accepted;
  const progressId = String(started.body.progress_id);
  let version = Number((started.body.progress as { version: number }).version);
  accepted.push(version);
  for (let i = 0; i < MOVES; i++) {
    await new Promise((r) => setTimeout(r, 150 + crypto.randomInt(0, 300)));
    const moved = await send(`move ${i + 1}`, 'PUT', `/api/tours/progress/${progressId}`, { action: 'next_step', expected_version: version });
    if (moved.status === 200) {
      version = Number((moved.body.progress as { version: number }).version);
      accepted.push(version);
    } else if (moved.status === 409 && moved.body.error?.code === 'version_conflict') {
      // An earlier try of this move landed after all: carry on from where the tour is.
      version = Number((moved.body.error.details?.current_progress as { version: number }).version);
    } else {
      return accepted;
    }
  }
  return accepted;
}

describe('Postgres stopped for 10 s while couples take their tours', () => {
  it('fails no workflow run, answers every request with a 2xx or a 503 with Retry-After, and keeps every accepted move', async () => {
    const couples = Array.from({ length: COUPLES }, () => crypto.randomUUID());
    await db!('organization_members').insert(couples.map((userId, i) => ({ organization_id: DEMO.orgId, user_id: userId, role: 'member', display_name: `Outage couple ${i}` })));
    await db!.destroy();
    db = undefined;

    const answers: Answer[] = [];
    const t0 = Date.now();
    // The couples arrive over two seconds; Postgres goes down one second in, while starts are in flight.
    const tours = couples.map(async (userId, i) => {
      await new Promise((r) => setTimeout(r, i * 100));
      return takeTour(i, userId, answers, t0);
    });
    await new Promise((r) => setTimeout(r, 1_000));
    await pg!.stop();
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    pg = await startPostgres();
    const outage = { downMs: Date.now() - stoppedAt };
    const accepted = await Promise.all(tours);

    // Every answer was a success, an outage to wait out (with Retry-After), or a stale version.
    const odd = answers.filter(
      (a) => !(a.status === 200 || a.status === 201 || (a.status === 503 && a.retryAfter !== null) || (a.status === 409 && a.code === 'version_conflict')),
    );
    expect(odd).toEqual([]);
    const tally: Record<string, number> = {};
    for (const a of answers) tally[`${a.status}${a.code ? ` ${a.code}` : ''}`] = (tally[`${a.status}${a.code ? ` ${a.code}` : ''}`] ?? 0) + 1;
    console.info(`outage e2e: Postgres down ${outage.downMs} ms; answers ${JSON.stringify(tally)}`);
    const during = answers.filter((a) => a.status === 503);
    expect({ outage, refusedDuringOutage: during.length > 0 }).toEqual({ outage, refusedDuringOutage: true });
    // Every couple got through the whole tour once Postgres was back.
    expect(accepted.map((v) => v.length > 0 && v.at(-1)! >= MOVES + 1)).toEqual(couples.map(() => true));

    // No workflow run failed.
    expect((await temporal.workflow.count(`ExecutionStatus = 'Failed'`)).count).toBe(0);

    // Every accepted move is in Postgres: the final version, and the events of every version, written by
    // the API or, where its write met the outage, by the workflow's own flush.
    db = createDb(pg!.url, { poolMax: 3 });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const missing: string[] = [];
      for (const [i, userId] of couples.entries()) {
        const row = await db('user_tour_progress').where({ organization_id: DEMO.orgId, user_id: userId, tour_id: DEMO.coupleTourId }).first();
        const last = accepted[i]!.at(-1)!;
        if (!row || row.version < last || row.status !== 'completed') {
          missing.push(`couple ${i}: row ${row ? `v${row.version} ${row.status}` : 'missing'}, accepted v${last}`);
          continue;
        }
        // Events are keyed {progressId}:{version}:{index}.
        const keys: string[] = await db('tour_analytics_events').where({ progress_id: row.id }).pluck('event_key');
        const versions = new Set(keys.map((k) => Number(k.split(':')[1])));
        const gaps = Array.from({ length: row.version }, (_, v) => v + 1).filter((v) => !versions.has(v));
        if (gaps.length > 0) missing.push(`couple ${i}: no events for versions ${gaps.join(', ')}`);
      }
      if (missing.length === 0) break;
      if (Date.now() > deadline) throw new Error(`accepted moves missing from Postgres:\n${missing.join('\n')}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }, 240_000);
});
