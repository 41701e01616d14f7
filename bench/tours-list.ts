/**
 * `npm run bench:tours`: what targeting and a running experiment cost `GET /api/tours`. Two
 * organisations with the same number of live tours, one plain (no rules, no tests), one targeted (every
 * tour with an audience and phase the member matches, a prerequisite they completed, a show and a skip
 * rule, and a running A/B test, half of whose assignments are stored); a member profile in both, only
 * the targeted one naming an audience and a wedding date. Requests alternate between the two, one at a time, through the real app on a loopback port
 * against an embedded Postgres (Temporal is not on this path: the app gets a stub). Prints p50/p90/p99
 * per organisation and the p50 ratio (goal: within 1.3x). See bench/README.md.
 *
 *   npx tsx bench/tours-list.ts [--tours 10] [--requests 600] [--no-save]
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createApp } from '../api/app';
import { createTokenVerifier, signToken } from '../api/middleware/auth';
import { createOutboundGuard } from '../connectors/outbound';
import { registry } from '../connectors/registry';
import { startEmbeddedPostgres } from '../db/embedded';
import { createDb, type Db } from '../db/knex';
import { migrateLatest, setAppRolePassword } from '../db/migrate';
import { publishVersion } from '../db/repositories/tour-versions';
import { createSecretBox, parseKeyring } from '../db/secrets';
import { assignVariant } from '../domain/ab';
import { createProgressFeed } from '../services/progress-feed';
import type { DeliveryReplays, TourWorkflows, UserWorkflows } from '../services/temporal';
import type { SyncControl } from '../services/sync';
import { freePorts, log, REPO_ROOT } from './lib/stack';
import { summarize } from './lib/stats';

const SECRET = 'bench-secret-long-enough-for-hs256-signing-0123456789';
const JWT = { secret: SECRET, issuer: 'tourhub', audience: 'tourhub-api' };
const APP_PASSWORD = 'bench-app-password';

interface Org {
  orgId: string;
  memberId: string;
  token: string;
}

async function makeOrg(db: Db, tours: number, targeted: boolean): Promise<Org> {
  const orgId = crypto.randomUUID();
  const memberId = crypto.randomUUID();
  await db('organizations').insert({ id: orgId, slug: `bench-${orgId.slice(0, 8)}`, name: 'Bench' });
  // One profile row in both; only the targeted member's names an audience and a wedding date, so
  // nothing filters the plain organisation's tours.
  await db('organization_members').insert({
    organization_id: orgId,
    user_id: memberId,
    role: 'member',
    email: 'bench@example.test',
    ...(targeted ? { audience: 'couples', wedding_date: new Date(Date.now() + 200 * 86_400_000).toISOString().slice(0, 10), time_zone: 'Europe/Lisbon' } : {}),
    attributes: JSON.stringify({ guest_count: 120, has_planner: false }),
  });
  const ids: string[] = [];
  for (let i = 0; i < tours; i++) {
    const tourId = crypto.randomUUID();
    ids.push(tourId);
    const rules = targeted
      ? {
          target_audience: db.raw(`ARRAY['couples']::audience_enum[]`),
          wedding_phase: 'planning',
          prerequisite_tours: db.raw('?::uuid[]', [i === 0 ? [] : [ids[0]!]]),
          show_conditions: JSON.stringify({ and: [{ field: 'guest_count', op: 'gte', value: 50 }, { field: 'audience', op: 'in', value: ['couples', 'planners'] }] }),
          skip_conditions: JSON.stringify({ field: 'has_planner', op: 'eq', value: true }),
        }
      : {};
    await db('tour_definitions').insert({ id: tourId, organization_id: orgId, tour_key: `t${i}`, name: `Tour ${i}`, ...rules });
    await db('tour_steps').insert(Array.from({ length: 5 }, (_, s) => ({ organization_id: orgId, tour_id: tourId, step_order: s, step_key: `s${s}`, title: `Step ${s}` })));
    await publishVersion(db, tourId, null);
    if (targeted) {
      const [test] = await db('tour_ab_tests')
        .insert({ organization_id: orgId, tour_id: tourId, test_name: `Test ${i}`, variant_b: JSON.stringify({ steps: { s0: { title: 'B' } } }), traffic_split: 0.5, status: 'running' })
        .returning('id');
      if (i % 2 === 0) {
        await db('tour_ab_assignments').insert({
          organization_id: orgId, ab_test_id: test.id, tour_id: tourId, variant: assignVariant(test.id, memberId, 0.5),
          subject_hash: db.raw('tourhub_ab_subject(?::uuid, ?::uuid)', [test.id, memberId]),
        });
      }
    }
  }
  if (targeted) {
    // The prerequisite of tours 1..n, completed.
    await db('user_tour_progress').insert({ user_id: memberId, organization_id: orgId, tour_id: ids[0], status: 'completed', workflow_id: 'bench', version: 3, tour_version: 1 });
  }
  return { orgId, memberId, token: await signToken(JWT, { orgId, userId: memberId }, 3600) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tours: { type: 'string', default: '10' }, requests: { type: 'string', default: '600' }, 'no-save': { type: 'boolean', default: false } } });
  const tours = Number(values.tours);
  const requests = Number(values.requests);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tourhub-bench-tours-'));
  fs.chmodSync(dir, 0o755);
  const [pgPort, apiPort] = await freePorts(2);
  log(`embedded Postgres on ${pgPort}`);
  const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: pgPort!, user: 'tourhub', password: 'tourhub', database: 'bench', persistent: false });
  const owner = createDb(pg.url, { poolMax: 4 });
  const appUrl = new URL(pg.url);
  appUrl.username = 'tourhub_app';
  appUrl.password = APP_PASSWORD;
  const appDb = createDb(appUrl.toString(), { poolMax: 10 });
  let server: http.Server | undefined;
  try {
    await migrateLatest(owner);
    await setAppRolePassword(owner, APP_PASSWORD);
    const plain = await makeOrg(owner, tours, false);
    const targeted = await makeOrg(owner, tours, true);
    const unused = () => Promise.reject(new Error('not on this path'));
    const workflows: TourWorkflows = { start: unused, advance: unused, feedback: unused, ping: unused };
    const replays: DeliveryReplays = { replay: unused };
    const userWorkflows: UserWorkflows = { erase: unused };
    const sync: SyncControl = { request: unused, ensureSchedule: unused, removeSchedule: unused, listSchedules: unused };
    const app = createApp({
      db: appDb,
      tours: workflows,
      replays,
      // GET /api/tours is not rate-limited; the limits are off so nothing else on the path counts.
      rateLimits: { perMinute: { progress: 0, start: 0 } },
      // Opened only by a progress stream, which this benchmark never asks for.
      realtime: { feed: createProgressFeed({ connectionString: appUrl.toString(), logger: pino({ level: 'silent' }) }), heartbeatMs: 15_000 },
      userWorkflows,
      sync,
      analytics: { beaconTokenTtlSeconds: 300, pseudonymKey: crypto.randomBytes(32) },
      verifier: createTokenVerifier(JWT),
      logger: pino({ level: 'silent' }),
      integrations: { box: createSecretBox(parseKeyring(`k:${Buffer.alloc(32, 1).toString('base64')}`), 'k'), registry, oauthClients: {}, publicUrl: 'http://bench.invalid', connectorTimeoutMs: 1000, outbound: createOutboundGuard() },
    });
    server = http.createServer(app);
    await new Promise<void>((r) => server!.listen(apiPort, '127.0.0.1', () => r()));
    // With the completed prerequisite listed too, both list every tour.
    const url = `http://127.0.0.1:${apiPort}/api/tours?include_completed=true`;
    const get = async (org: Org): Promise<{ ms: number; count: number }> => {
      const t0 = process.hrtime.bigint();
      const res = await fetch(url, { headers: { authorization: `Bearer ${org.token}` } });
      const body = (await res.json()) as { tours: unknown[] };
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (res.status !== 200) throw new Error(`GET /api/tours answered ${res.status}: ${JSON.stringify(body)}`);
      return { ms, count: body.tours.length };
    };
    const offered = { plain: (await get(plain)).count, targeted: (await get(targeted)).count };
    if (offered.plain !== tours || offered.targeted !== tours) throw new Error(`expected ${tours} tours offered to each, got ${JSON.stringify(offered)}`);
    log(`warming up (50 requests each)`);
    for (let i = 0; i < 50; i++) {
      await get(plain);
      await get(targeted);
    }
    const samples = { plain: [] as number[], targeted: [] as number[] };
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < requests; i++) {
      // Alternating, and swapping which goes first, so drift on a shared machine hits both alike.
      const order = i % 2 === 0 ? ([['plain', plain], ['targeted', targeted]] as const) : ([['targeted', targeted], ['plain', plain]] as const);
      for (const [name, org] of order) samples[name].push((await get(org)).ms);
    }
    const cpu = process.cpuUsage(cpu0);
    const p = summarize(samples.plain);
    const t = summarize(samples.targeted);
    const ratio = t.p50 / p.p50;
    const row = (name: string, s: ReturnType<typeof summarize>) => `| ${name} | ${s.p50.toFixed(2)} | ${s.p90.toFixed(2)} | ${s.p99.toFixed(2)} |`;
    process.stdout.write(
      [
        '',
        `GET /api/tours, ${tours} live tours each, ${requests} requests each, alternating, one at a time`,
        '',
        '| organisation | p50 ms | p90 ms | p99 ms |',
        '| --- | ---: | ---: | ---: |',
        row('plain (no rules, no tests)', p),
        row(`targeted (audience, phase, prerequisite, rules, ${tours} running tests)`, t),
        `| ratio targeted / plain | ${ratio.toFixed(2)}x | ${(t.p90 / p.p90).toFixed(2)}x | ${(t.p99 / p.p99).toFixed(2)}x |`,
        '',
        `Goal "p50 within 1.3x": ${ratio <= 1.3 ? '**met**' : '**not met**'} (${ratio.toFixed(2)}x).`,
        `CPU of this process (load generator and API) per request: ${((cpu.user + cpu.system) / 1000 / (2 * requests)).toFixed(2)} ms; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}.`,
        '',
      ].join('\n'),
    );
    if (!values['no-save']) {
      const out = path.join(REPO_ROOT, 'bench', 'results', `tours-list-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, JSON.stringify({ tours, requests, plain: p, targeted: t, ratio, cpus: os.cpus().length, loadavg: os.loadavg() }, null, 2));
      log(`results in ${path.relative(REPO_ROOT, out)}`);
    }
  } finally {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await Promise.all([appDb.destroy(), owner.destroy()]);
    await pg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
