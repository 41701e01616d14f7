/**
 * `npm run bench:analytics`: issue 12's three figures on a private `tourhub dev` stack (bench/README.md).
 *
 * 1. Ingestion: POST /api/tours/analytics/events in batches of 500, against the same statement
 *    (db/repositories/analytics.ts insertClientEvents) run straight on Postgres with the same rows'
 *    shape and concurrency, interleaved round by round.
 * 2. Realtime: N streams open on a second API process (`tourhub api`); a PUT on the first, timed to the
 *    SSE message on the second.
 * 3. Dashboard: GET /api/tours/analytics/dashboard once 1,000,000 events and 100,000 progress rows are loaded.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { signToken } from '../api/middleware/auth';
import { EMBEDDED_PG, loadConfig } from '../config';
import { createDb } from '../db/knex';
import { insertClientEvents, type ClientEventRow } from '../db/repositories/analytics';
import { withTenant } from '../db/tenant';
import { DEMO } from '../db/seeds/demo';
import { openSse, type SseClient } from '../test/support/sse';
import { intOption, isStopping, loadAverage, machineFacts, machineLine, runBench, saveResults, STACK_OPTIONS, stackOptions, startPrivateTemporal, type StackOptions } from './lib/harness';
import { fmt, freePorts, log, msSince, nowNs, sleep, spawnManaged, startDevStack, table } from './lib/stack';
import { percentile } from './lib/stats';

const USAGE = `Usage: npm run bench:analytics -- [options]

Ingestion, realtime and dashboard figures of the analytics API on a private "tourhub dev" stack plus a
second "tourhub api" process.
  --rounds N             interleaved ingestion rounds (API, bare, API, bare, ...)   default 3
  --batches N            batches of 500 events per ingestion phase                 default 40
  --concurrency N        batches in flight at once                                 default 4
  --streams N            SSE streams open on the second API process                default 200
  --moves N              timed PUTs whose SSE message is awaited                   default 200
  --events N             events loaded for the dashboard                           default 1000000
  --progress N           progress rows loaded for the dashboard                    default 100000
  --dashboard-requests N timed dashboard requests                                  default 100
  --temporal-memory, --keep-data, --no-save  as for npm run bench`;

interface Options extends StackOptions {
  rounds: number;
  batches: number;
  concurrency: number;
  streams: number;
  moves: number;
  events: number;
  progress: number;
  dashboardRequests: number;
}

const BATCH = 500;
const GOALS = { eventsPerSecond: 20_000, ingestRatio: 2, dashboardP95Ms: 200, realtimeP99Ms: 1000 };

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '3' },
      batches: { type: 'string', default: '40' },
      concurrency: { type: 'string', default: '4' },
      streams: { type: 'string', default: '200' },
      moves: { type: 'string', default: '200' },
      events: { type: 'string', default: '1000000' },
      progress: { type: 'string', default: '100000' },
      'dashboard-requests': { type: 'string', default: '100' },
      ...STACK_OPTIONS,
    },
    strict: true,
  });
  if (values.help) return undefined;
  return {
    ...stackOptions(values),
    rounds: intOption('rounds', values.rounds, 1, 20),
    batches: intOption('batches', values.batches, 1, 10_000),
    concurrency: intOption('concurrency', values.concurrency, 1, 64),
    streams: intOption('streams', values.streams, 1, 2000),
    moves: intOption('moves', values.moves, 1, 10_000),
    events: intOption('events', values.events, 0, 50_000_000),
    progress: intOption('progress', values.progress, 0, 5_000_000),
    dashboardRequests: intOption('dashboard-requests', values['dashboard-requests'], 1, 10_000),
  };
}

/** `count` jobs, at most `concurrency` at once. */
async function pool(count: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count && !isStopping()) await job(next++);
    }),
  );
}

const STEP_KEYS = ['welcome', 'timeline', 'guest_list', 'vendors', 'budget'];
const TYPES = ['step_viewed', 'step_completed', 'tooltip_clicked', 'help_requested'] as const;

function batchOf(tourId: string): ClientEventRow[] {
  return Array.from({ length: BATCH }, (_, i) => ({
    clientId: crypto.randomUUID(),
    tourId,
    progressId: null,
    eventType: TYPES[i % TYPES.length]!,
    stepIndex: i % STEP_KEYS.length,
    stepKey: STEP_KEYS[i % STEP_KEYS.length]!,
    eventData: { source: 'bench', n: i },
    pageUrl: 'https://app.example/dashboard',
    referrer: null,
    sessionId: null,
    loadTimeMs: 120 + (i % 50),
    interactionTimeMs: 800 + (i % 400),
  }));
}

function toWire(rows: ClientEventRow[]) {
  return rows.map((r) => ({
    id: r.clientId,
    tour_id: r.tourId,
    event_type: r.eventType,
    step_index: r.stepIndex,
    step_key: r.stepKey,
    event_data: r.eventData,
    page_url: r.pageUrl,
    load_time_ms: r.loadTimeMs,
    interaction_time_ms: r.interactionTimeMs,
  }));
}

runBench<Options>({
  usage: USAGE,
  parse: parseOptions,
  onFirstSignal: 'stopping after the requests in flight',
  run: async (opts, cleanups, startedAt) => {
    const config = loadConfig();
    const defaults = loadConfig({});
    const loadBefore = loadAverage();
    const { dataDir, apiPort, pgPort, binary, address } = await startPrivateTemporal('tourhub-bench-analytics-', opts, config.temporal.cliPath, cleanups);
    const stack = await startDevStack({ dataDir, apiPort, pgPort, temporalAddress: address, passThrough: ['DATABASE_POOL_MAX'], isStopping });
    cleanups.push('tourhub dev', () => stack.process.stop('SIGINT', 60_000));
    const ownerUrl = `postgres://${EMBEDDED_PG.user}:${EMBEDDED_PG.password}@127.0.0.1:${pgPort}/${EMBEDDED_PG.database}`;
    const [secondPort] = (await freePorts(1)) as [number];
    const second = spawnManaged('tourhub api (second)', process.execPath, [path.join(__dirname, '..', 'bin', 'tourhub.js'), 'api'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TOURHUB_ENV: 'development', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(secondPort), DATABASE_URL: ownerUrl, TEMPORAL_ADDRESS: address, TOURHUB_DATA_DIR: dataDir },
      logFile: path.join(dataDir, 'second-api.log'),
    });
    cleanups.push('second API', () => second.stop('SIGTERM', 30_000));
    const secondUrl = `http://127.0.0.1:${secondPort}`;
    for (let ready = false; !ready; ) {
      ready = await fetch(`${secondUrl}/readyz`).then((r) => r.ok, () => false);
      if (second.exited()) throw new Error(`the second API exited:\n${second.output()}`);
      if (!ready) await sleep(300);
    }
    log(`stack ready: ${stack.apiUrl} and ${secondUrl}`);

    const secret = fs.readFileSync(path.join(dataDir, 'jwt-secret'), 'utf8').trim();
    const jwt = { secret, issuer: defaults.jwt.issuer, audience: defaults.jwt.audience };
    const owner = createDb(ownerUrl, { poolMax: opts.concurrency + 2 });
    // Roles come from membership, not the token: each virtual person is made a member first.
    const tokenFor = async (userId: string, role: 'admin' | 'member' = 'member', orgId: string = DEMO.orgId) => {
      await owner('organization_members').insert({ organization_id: orgId, user_id: userId, role }).onConflict(['organization_id', 'user_id']).ignore();
      return signToken(jwt, { orgId, userId }, 3600);
    };
    const app = createDb(ownerUrl.replace(`${EMBEDDED_PG.user}:${EMBEDDED_PG.password}`, 'tourhub_app:tourhub_app'), { poolMax: opts.concurrency + 2 });
    cleanups.push('database pools', () => Promise.all([owner.destroy(), app.destroy()]));

    // ---- 1. Ingestion -------------------------------------------------------------------------
    const ingest: { round: number; path: string; eventsPerSecond: number; p50BatchMs: number; p95BatchMs: number }[] = [];
    for (let round = 1; round <= opts.rounds && !isStopping(); round++) {
      for (const which of ['api', 'bare'] as const) {
        const userId = crypto.randomUUID();
        const token = await tokenFor(userId);
        const batches = Array.from({ length: opts.batches }, () => batchOf(DEMO.coupleTourId));
        const times: number[] = [];
        let recorded = 0;
        const t0 = nowNs();
        await pool(batches.length, opts.concurrency, async (i) => {
          const t = nowNs();
          if (which === 'api') {
            const res = await fetch(`${stack.apiUrl}/api/tours/analytics/events`, {
              method: 'POST',
              headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'User-Agent': 'tourhub-bench' },
              body: JSON.stringify({ events: toWire(batches[i]!) }),
            });
            const body = (await res.json()) as { recorded_events?: number };
            if (res.status !== 200) throw new Error(`ingestion answered ${res.status}: ${JSON.stringify(body)}`);
            recorded += body.recorded_events ?? 0;
          } else {
            // The same statement, rows and role under row-level security: no HTTP, JSON, validation or lookups.
            const inserted = await withTenant(app, { orgId: DEMO.orgId, userId, role: 'member' }, (trx) =>
              insertClientEvents(trx, { orgId: DEMO.orgId, userId, userAgent: 'tourhub-bench' }, batches[i]!),
            );
            recorded += inserted.size;
          }
          times.push(msSince(t));
        });
        const seconds = msSince(t0) / 1000;
        ingest.push({ round, path: which, eventsPerSecond: recorded / seconds, p50BatchMs: percentile(times, 50), p95BatchMs: percentile(times, 95) });
        log(`ingestion round ${round} ${which}: ${recorded} events in ${seconds.toFixed(2)} s = ${(recorded / seconds).toFixed(0)}/s`);
      }
    }

    // ---- 2. Realtime --------------------------------------------------------------------------
    log(`starting ${opts.streams} tours and opening their streams on the second API...`);
    const people = Array.from({ length: opts.streams }, () => crypto.randomUUID());
    const tokens = await Promise.all(people.map((p) => tokenFor(p)));
    const progressIds: string[] = new Array(people.length);
    await pool(people.length, 8, async (i) => {
      const res = await fetch(`${stack.apiUrl}/api/tours/${DEMO.coupleTourId}/start`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${tokens[i]}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ device_type: 'desktop' }),
      });
      const body = (await res.json()) as { progress_id: string };
      if (res.status !== 201) throw new Error(`start answered ${res.status}`);
      progressIds[i] = body.progress_id;
    });
    const streams: SseClient[] = [];
    for (let i = 0; i < people.length; i++) streams.push(await openSse(`${secondUrl}/api/tours/progress/${progressIds[i]}/stream`, { token: tokens[i]! }));
    cleanups.push('streams', async () => streams.forEach((s) => s.close()));
    await Promise.all(streams.map((s) => s.until((m) => m.length >= 1, 30_000)));
    const realtime: number[] = [];
    const version = new Array<number>(people.length).fill(1);
    let missed = 0;
    await pool(opts.moves, 8, async (n) => {
      const i = n % people.length;
      const action = version[i]! % 2 === 1 ? 'next_step' : 'previous_step';
      const expected = ++version[i]!;
      const t = nowNs();
      const arrived = streams[i]!.until((m) => m.some((x) => x.id === String(expected)), 10_000).then(() => msSince(t));
      const res = await fetch(`${stack.apiUrl}/api/tours/progress/${progressIds[i]}`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${tokens[i]}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ action }),
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`PUT answered ${res.status}`);
      const ms = await arrived.catch(() => undefined);
      if (ms === undefined) missed++;
      else realtime.push(ms);
    });
    streams.forEach((s) => s.close());
    log(`realtime: ${realtime.length} messages, p50 ${fmt(percentile(realtime, 50))} ms, p99 ${fmt(percentile(realtime, 99))} ms, missed ${missed}`);

    // ---- 3. Dashboard -------------------------------------------------------------------------
    log(`loading ${opts.progress} progress rows and ${opts.events} events into a dashboard organisation...`);
    const orgId = crypto.randomUUID();
    const tourIds = Array.from({ length: 5 }, () => crypto.randomUUID());
    await owner('organizations').insert({ id: orgId, slug: `bench-${orgId.slice(0, 8)}`, name: 'Bench dashboard' });
    for (const [t, tourId] of tourIds.entries()) {
      await owner('tour_definitions').insert({ id: tourId, organization_id: orgId, tour_key: `tour-${t}`, name: `Tour ${t}` });
      await owner('tour_steps').insert(STEP_KEYS.map((key, i) => ({ organization_id: orgId, tour_id: tourId, step_order: i, step_key: key, title: key })));
    }
    const tLoad = nowNs();
    // Generated in Postgres: statuses, steps and times spread over the last 90 days, 5 tours.
    const progressChunk = 20_000;
    for (let done = 0; done < opts.progress && !isStopping(); done += progressChunk) {
      await owner.raw(
        `INSERT INTO user_tour_progress (user_id, organization_id, tour_id, status, current_step_index, completed_steps, skipped_steps,
           total_steps, version, workflow_id, started_at, total_time_seconds, user_rating)
         SELECT gen_random_uuid(), ?::uuid, (?::uuid[])[1 + g % 5],
                (ARRAY['completed','in_progress','abandoned','completed','skipped_all']::progress_status_enum[])[1 + g % 5],
                g % 5, ARRAY(SELECT generate_series(0, (g % 5) - 1)), ARRAY[]::int[], 5, 1 + g % 9, 'bench',
                now() - (g % 90) * interval '1 day', g % 1800, CASE WHEN g % 3 = 0 THEN 1 + g % 5 END
           FROM generate_series(?::int, ?::int) g`,
        [orgId, tourIds, done, Math.min(done + progressChunk, opts.progress) - 1],
      );
    }
    const eventChunk = 100_000;
    for (let done = 0; done < opts.events && !isStopping(); done += eventChunk) {
      await owner.raw(
        `INSERT INTO tour_analytics_events (user_id, organization_id, tour_id, event_type, step_index, step_key, event_data, "timestamp", interaction_time_ms, load_time_ms)
         SELECT gen_random_uuid(), ?::uuid, (?::uuid[])[1 + g % 5],
                (ARRAY['step_viewed','step_completed','step_skipped','help_requested','error_encountered','tooltip_clicked']::event_type_enum[])[1 + g % 6],
                g % 5, (?::text[])[1 + g % 5], '{}'::jsonb, now() - (g % 90) * interval '1 day' - (g % 86400) * interval '1 second',
                500 + g % 3000, 100 + g % 400
           FROM generate_series(?::int, ?::int) g`,
        [orgId, tourIds, STEP_KEYS, done, Math.min(done + eventChunk, opts.events) - 1],
      );
    }
    await owner.raw('ANALYZE user_tour_progress; ANALYZE tour_analytics_events; ANALYZE tour_analytics_daily');
    const loadSeconds = msSince(tLoad) / 1000;
    log(`loaded in ${loadSeconds.toFixed(0)} s`);
    const adminToken = await tokenFor(crypto.randomUUID(), 'admin', orgId);
    const queries = [
      `?start_date=${new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10)}&end_date=${new Date().toISOString().slice(0, 10)}`,
      '',
      `?tour_id=${tourIds[0]}&start_date=${new Date(Date.now() - 89 * 86_400_000).toISOString().slice(0, 10)}`,
    ];
    const get = async (q: string) => {
      const t = nowNs();
      const res = await fetch(`${stack.apiUrl}/api/tours/analytics/dashboard${q}`, { headers: { Authorization: `Bearer ${adminToken}` } });
      const body = (await res.json()) as { overview?: { total_tours_started: number } };
      if (res.status !== 200) throw new Error(`dashboard answered ${res.status}: ${JSON.stringify(body)}`);
      return { ms: msSince(t), started: body.overview!.total_tours_started };
    };
    for (let i = 0; i < 5; i++) await get(queries[i % queries.length]!);
    const dashboard: number[] = [];
    let startedAll = 0;
    for (let i = 0; i < opts.dashboardRequests && !isStopping(); i++) {
      const r = await get(queries[i % queries.length]!);
      dashboard.push(r.ms);
      if (i % queries.length === 1) startedAll = r.started;
    }

    // ---- Report -------------------------------------------------------------------------------
    const med = (p: string, f: (r: (typeof ingest)[number]) => number) => percentile(ingest.filter((r) => r.path === p).map(f), 50);
    const ratios = Array.from({ length: opts.rounds }, (_, k) => {
      const a = ingest.find((r) => r.round === k + 1 && r.path === 'api');
      const b = ingest.find((r) => r.round === k + 1 && r.path === 'bare');
      return a && b ? b.eventsPerSecond / a.eventsPerSecond : Number.NaN;
    }).filter(Number.isFinite);
    const summary = {
      ingestion: {
        apiEventsPerSecond: med('api', (r) => r.eventsPerSecond),
        bareEventsPerSecond: med('bare', (r) => r.eventsPerSecond),
        bareOverApi: percentile(ratios, 50),
        apiBatchP50Ms: med('api', (r) => r.p50BatchMs),
        apiBatchP95Ms: med('api', (r) => r.p95BatchMs),
      },
      realtime: { streams: opts.streams, messages: realtime.length, missed, p50Ms: percentile(realtime, 50), p99Ms: percentile(realtime, 99), maxMs: Math.max(...realtime) },
      dashboard: { events: opts.events, progress: opts.progress, startedAll, p50Ms: percentile(dashboard, 50), p95Ms: percentile(dashboard, 95), maxMs: Math.max(...dashboard), loadSeconds },
    };
    const machine = await machineFacts({ loadBefore, binary, temporalMemory: opts.temporalMemory });
    const out = [
      `Ingestion: batches of ${BATCH}, ${opts.batches} per phase, ${opts.concurrency} in flight, medians of ${opts.rounds} interleaved rounds`,
      table([
        ['path', 'events/s', 'batch p50 ms', 'batch p95 ms'],
        ['POST /api/tours/analytics/events', fmt(summary.ingestion.apiEventsPerSecond, 0), fmt(summary.ingestion.apiBatchP50Ms), fmt(summary.ingestion.apiBatchP95Ms)],
        ['bare multi-row insert (same statement)', fmt(summary.ingestion.bareEventsPerSecond, 0), fmt(med('bare', (r) => r.p50BatchMs)), fmt(med('bare', (r) => r.p95BatchMs))],
        ['ratio bare / API', `${fmt(summary.ingestion.bareOverApi, 2)}x`, '', ''],
      ]),
      '',
      table([
        ['figure', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
        [`realtime: PUT on API 1 to SSE on API 2 (${opts.streams} streams, ${realtime.length} moves, ${missed} missed)`, fmt(summary.realtime.p50Ms), fmt(percentile(realtime, 95)), fmt(summary.realtime.p99Ms), fmt(summary.realtime.maxMs)],
        [`dashboard (${opts.events} events, ${opts.progress} progress rows, ${dashboard.length} requests)`, fmt(summary.dashboard.p50Ms), fmt(summary.dashboard.p95Ms), fmt(percentile(dashboard, 99)), fmt(summary.dashboard.maxMs)],
      ]),
      '',
      `goal >= ${GOALS.eventsPerSecond} events/s through the API: ${summary.ingestion.apiEventsPerSecond >= GOALS.eventsPerSecond ? 'met' : 'NOT met'}`,
      `goal API within ${GOALS.ingestRatio}x of the bare insert: ${summary.ingestion.bareOverApi <= GOALS.ingestRatio ? 'met' : 'NOT met'}`,
      `goal dashboard p95 < ${GOALS.dashboardP95Ms} ms: ${summary.dashboard.p95Ms < GOALS.dashboardP95Ms ? 'met' : 'NOT met'}`,
      `goal realtime p99 < ${GOALS.realtimeP99Ms} ms with ${opts.streams} streams: ${summary.realtime.p99Ms < GOALS.realtimeP99Ms && missed === 0 ? 'met' : 'NOT met'}`,
      machineLine(machine),
    ].join('\n');
    process.stdout.write(`${out}\n`);
    if (opts.save) saveResults('analytics', startedAt, { options: opts, machine, summary, ingest, realtime, dashboard });
    return 0;
  },
});
