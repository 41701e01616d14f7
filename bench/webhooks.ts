/**
 * `npm run bench:webhooks` (tsx bench/webhooks.ts): how fast inbound webhooks are answered.
 *
 * Starts a private Temporal dev server and a private `tourhub dev` stack (own ports, own temporary data
 * folder), gives the demo organisation a signing secret and a Stripe integration with an endpoint
 * secret, then sends each kind of request open-loop at a fixed rate (default 200/s: one request every
 * 5 ms whether or not the previous ones were answered, so a slow server shows as latency, not as a lower
 * rate) and records each answer time:
 *   baseline    GET /healthz, the cheapest route, at the same rate: what the machine and Express cost
 *   unsigned    POST /api/webhooks/tour-events without a signature: refused 401, nothing stored
 *   duplicate   a signed tour event already received: signature, lookup, 200 duplicate (no workflow)
 *   stripe      a signed Stripe event: the SDK's check, one stored row, the delivery's status
 *   tour-start  a signed tour_started for a new user: signature, stored row, update-with-start of a new
 *               tour workflow, progress written to Postgres, all before the answer
 *   api-start   POST /api/tours/:id/start for a new user with a bearer token: the same start without the
 *               webhook layer, so tour-start's extra cost can be read off (not in the default kinds)
 * Prints p50/p90/p99/max per kind and the goal check (p99 under 100 ms at 200/s), saves JSON to
 * bench/results/. Timing never fails the run. See bench/README.md.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Stripe from 'stripe';
import { signToken } from '../api/middleware/auth';
import { embeddedDatabaseUrl, loadConfig } from '../config';
import { createDb } from '../db/knex';
import { DEMO } from '../db/seeds/demo';
import { tourSignatureHeader } from '../services/webhook-signatures';
import { intOption, isStopping, loadAverage, machineFacts, machineLine, runBench, saveResults, STACK_OPTIONS, stackOptions, startPrivateTemporal, type StackOptions } from './lib/harness';
import { fmt, log, msSince, nowNs, startDevStack, table, treeCpuMs } from './lib/stack';
import { summarize, type LatencySummary } from './lib/stats';

const GOAL_P99_MS = 100;
const REQUEST_TIMEOUT_MS = 15_000;
const TUNING_VARIABLES = ['DATABASE_POOL_MAX', 'TOUR_UPDATE_TIMEOUT_MS', 'TOURHUB_WORKFLOW_BUNDLE'];
const KINDS = ['baseline', 'unsigned', 'duplicate', 'stripe', 'tour-start', 'api-start'] as const;
type Kind = (typeof KINDS)[number];
const EXPECTED_STATUS: Record<Kind, number> = { baseline: 200, unsigned: 401, duplicate: 200, stripe: 200, 'tour-start': 200, 'api-start': 201 };

const USAGE = `Usage: npm run bench:webhooks -- [options]

Answer times of inbound webhooks on a private "tourhub dev" stack, open-loop at a fixed rate.
  --rate N        requests per second                                       default 200
  --seconds N     timed seconds per kind                                    default 10
  --warmup N      untimed seconds per kind before it                        default 2
  --kinds LIST    comma-separated, of ${KINDS.join(', ')}
                  default: all but api-start
  --temporal-memory, --keep-data, --no-save   as for npm run bench
Tuning variables passed through to the stack when set: ${TUNING_VARIABLES.join(', ')}.`;

interface Options extends StackOptions {
  rate: number;
  seconds: number;
  warmup: number;
  kinds: Kind[];
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      kinds: { type: 'string', default: KINDS.filter((k) => k !== 'api-start').join(',') },
      ...STACK_OPTIONS,
    },
    strict: true,
  });
  if (values.help) return undefined;
  const kinds = values.kinds.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !(KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`--kinds: unknown ${unknown.join(', ')} (known: ${KINDS.join(', ')})`);
  return {
    rate: intOption('rate', values.rate, 1, 2000),
    seconds: intOption('seconds', values.seconds, 1, 600),
    warmup: intOption('warmup', values.warmup, 0, 60),
    kinds: kinds as Kind[],
    ...stackOptions(values),
  };
}

interface Request {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

interface PhaseResult {
  kind: Kind;
  sent: number;
  /** Requests per second actually sent (the open loop's own pacing). */
  sentRate: number;
  latencyMs: LatencySummary;
  /** Answers other than the kind's expected status. */
  unexpected: Record<string, number>;
  /** Requests that got no answer (timeout, connection error). */
  failed: number;
  cpuMs: { api?: number; postgres?: number; temporal?: number };
}

/**
 * Sends `make(i)` every 1000/rate ms for `seconds`, without waiting for answers, and returns each answer's
 * time (ms) and status. Pacing is by absolute schedule, so a late timer is caught up, not dropped.
 */
async function openLoop(apiUrl: string, rate: number, seconds: number, make: (i: number) => Request): Promise<{ times: number[]; statuses: (number | 'failed')[]; sentRate: number }> {
  const total = rate * seconds;
  const interval = 1000 / rate;
  const times: number[] = [];
  const statuses: (number | 'failed')[] = [];
  const inFlight: Promise<void>[] = [];
  const started = Date.now();
  for (let i = 0; i < total && !isStopping(); i++) {
    const due = started + i * interval;
    const wait = due - Date.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const req = make(i);
    const t = nowNs();
    inFlight.push(
      fetch(`${apiUrl}${req.path}`, { method: req.method, headers: req.headers, ...(req.body !== undefined ? { body: req.body } : {}), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).then(
        async (res) => {
          await res.arrayBuffer();
          times.push(msSince(t));
          statuses.push(res.status);
        },
        () => {
          statuses.push('failed');
        },
      ),
    );
  }
  const sentRate = inFlight.length / ((Date.now() - started) / 1000);
  await Promise.all(inFlight);
  return { times, statuses, sentRate };
}

runBench<Options>({
  usage: USAGE,
  parse: parseOptions,
  onFirstSignal: 'stopping after the requests in flight',
  run: async (opts, cleanups, startedAt) => {
    const config = loadConfig();
    const jwtDefaults = loadConfig({});
    const { dataDir, apiPort, pgPort, binary, address, server } = await startPrivateTemporal('tourhub-bench-webhooks-', opts, config.temporal.cliPath, cleanups);
    const stack = await startDevStack({ dataDir, apiPort, pgPort, temporalAddress: address, passThrough: TUNING_VARIABLES, isStopping });
    cleanups.push('tourhub dev', () => stack.process.stop('SIGINT', 60_000));
    log(`tourhub dev ready at ${stack.apiUrl}`);

    const secret = fs.readFileSync(path.join(dataDir, 'jwt-secret'), 'utf8').trim();
    const owner = createDb(embeddedDatabaseUrl(loadConfig({ EMBEDDED_PG_PORT: String(pgPort) })), { poolMax: 4, applicationName: 'tourhub-bench' });
    cleanups.push('bench database pool', () => owner.destroy());
    const admin = await signToken({ secret, issuer: jwtDefaults.jwt.issuer, audience: jwtDefaults.jwt.audience }, { orgId: DEMO.orgId, userId: DEMO.adminUserId });
    const call = async (method: string, p: string, body: unknown) => {
      const res = await fetch(`${stack.apiUrl}${p}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.json()) as Record<string, unknown>;
      if (res.status >= 300) throw new Error(`${method} ${p} answered ${res.status}: ${JSON.stringify(json)}`);
      return json;
    };
    const signingSecret = (await call('POST', '/api/webhooks/signing-secrets', {})).secret as string;
    const stripeSecret = `whsec_${crypto.randomBytes(24).toString('hex')}`;
    const stripeIntegration = ((await call('POST', '/api/integrations', { provider: 'stripe', credentials: { secretKey: 'sk_test_bench', webhookSecret: stripeSecret } })).integration as { id: string }).id;

    const tourEvent = (type: string, userId: string, eventId: string) =>
      JSON.stringify({ event_type: type, event_id: eventId, timestamp: new Date().toISOString(), user_id: userId, organization_id: DEMO.orgId, tour_id: DEMO.coupleTourId, progress_id: crypto.randomUUID() });
    const signed = (body: string): Request => ({
      method: 'POST',
      path: '/api/webhooks/tour-events',
      headers: { 'content-type': 'application/json', 'x-wedsync-signature': tourSignatureHeader(signingSecret, Math.floor(Date.now() / 1000), body) },
      body,
    });
    // One event received before the phase: every copy of it is a duplicate.
    const duplicateBody = tourEvent('tour_started', crypto.randomUUID(), 'bench-duplicate');
    const first = await fetch(`${stack.apiUrl}/api/webhooks/tour-events`, signed(duplicateBody));
    if (first.status !== 200) throw new Error(`the first copy of the duplicate event answered ${first.status}: ${await first.text()}`);

    // Tokens of new users for api-start, minted before the clock starts (one per request of a phase).
    const memberTokens = opts.kinds.includes('api-start')
      ? await Promise.all(
          Array.from({ length: opts.rate * (opts.seconds + opts.warmup) }, async () => {
            // Roles come from membership: each new couple is a member of the demo organisation first.
            const userId = crypto.randomUUID();
            await owner('organization_members').insert({ organization_id: DEMO.orgId, user_id: userId, role: 'member' });
            return signToken({ secret, issuer: jwtDefaults.jwt.issuer, audience: jwtDefaults.jwt.audience }, { orgId: DEMO.orgId, userId });
          }),
        )
      : [];
    let apiStarts = 0;
    const makers: Record<Kind, (i: number) => Request> = {
      baseline: () => ({ method: 'GET', path: '/healthz', headers: {} }),
      unsigned: () => ({ method: 'POST', path: '/api/webhooks/tour-events', headers: { 'content-type': 'application/json' }, body: duplicateBody }),
      duplicate: () => signed(duplicateBody),
      stripe: () => {
        const payload = JSON.stringify({ id: `evt_${crypto.randomUUID().replace(/-/g, '')}`, object: 'event', type: 'invoice.paid', created: Math.floor(Date.now() / 1000), livemode: false, data: { object: { id: 'in_1', object: 'invoice', customer: 'cus_bench', amount_paid: 4900, currency: 'usd' } } });
        return { method: 'POST', path: `/api/webhooks/stripe/${stripeIntegration}`, headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: stripeSecret }) }, body: payload };
      },
      'tour-start': () => signed(tourEvent('tour_started', crypto.randomUUID(), `bench-${crypto.randomUUID()}`)),
      'api-start': () => ({
        method: 'POST',
        path: `/api/tours/${DEMO.coupleTourId}/start`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${memberTokens[apiStarts++ % memberTokens.length]}` },
        body: '{}',
      }),
    };

    const cpuNow = () => {
      const api = treeCpuMs(stack.process.pid);
      const temporal = treeCpuMs(server.pid);
      return { api: api?.self, postgres: api?.descendants, temporal: temporal && temporal.self + temporal.descendants };
    };
    const loadBefore = loadAverage();
    const results: PhaseResult[] = [];
    for (const kind of opts.kinds) {
      if (isStopping()) break;
      if (opts.warmup > 0) {
        log(`${kind}: ${opts.warmup} s warm-up at ${opts.rate}/s`);
        await openLoop(stack.apiUrl, opts.rate, opts.warmup, makers[kind]);
      }
      log(`${kind}: ${opts.seconds} s at ${opts.rate}/s`);
      const before = cpuNow();
      const { times, statuses, sentRate } = await openLoop(stack.apiUrl, opts.rate, opts.seconds, makers[kind]);
      const after = cpuNow();
      const unexpected: Record<string, number> = {};
      for (const s of statuses) if (s !== 'failed' && s !== EXPECTED_STATUS[kind]) unexpected[String(s)] = (unexpected[String(s)] ?? 0) + 1;
      const diff = (a?: number, b?: number) => (a !== undefined && b !== undefined ? a - b : undefined);
      const result: PhaseResult = {
        kind,
        sent: statuses.length,
        sentRate,
        latencyMs: summarize(times),
        unexpected,
        failed: statuses.filter((s) => s === 'failed').length,
        cpuMs: { api: diff(after.api, before.api), postgres: diff(after.postgres, before.postgres), temporal: diff(after.temporal, before.temporal) },
      };
      log(`  ${kind}: p50 ${fmt(result.latencyMs.p50)} ms, p99 ${fmt(result.latencyMs.p99)} ms${result.failed ? `, ${result.failed} failed` : ''}${Object.keys(unexpected).length ? `, unexpected ${JSON.stringify(unexpected)}` : ''}`);
      results.push(result);
    }
    if (isStopping()) return 130;

    const machine = await machineFacts({ loadBefore, binary, temporalMemory: opts.temporalMemory });
    const baseline = results.find((r) => r.kind === 'baseline');
    const rows = [['kind', 'sent', 'rate/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'p99 vs baseline', 'unexpected', 'no answer', 'API CPU s']];
    for (const r of results) {
      rows.push([
        r.kind,
        String(r.sent),
        fmt(r.sentRate, 0),
        fmt(r.latencyMs.p50),
        fmt(r.latencyMs.p90),
        fmt(r.latencyMs.p99),
        fmt(r.latencyMs.max),
        baseline && r !== baseline ? `${fmt(r.latencyMs.p99 - baseline.latencyMs.p99)} ms more` : '',
        Object.entries(r.unexpected).map(([s, n]) => `${n}x${s}`).join(' ') || '0',
        String(r.failed),
        fmt((r.cpuMs.api ?? Number.NaN) / 1000, 1),
      ]);
    }
    const goals = Object.fromEntries(results.filter((r) => r.kind !== 'baseline').map((r) => [r.kind, r.latencyMs.p99 < GOAL_P99_MS]));
    const out = [
      `Inbound webhooks, open loop at ${opts.rate} requests/s for ${opts.seconds} s per kind (after ${opts.warmup} s warm-up)`,
      '',
      table(rows),
      '',
      `goal: p99 under ${GOAL_P99_MS} ms at ${opts.rate}/s: ${Object.entries(goals).map(([k, ok]) => `${k} ${ok ? 'met' : 'not met'}`).join(', ')}`,
      machineLine(machine),
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    if (opts.save) saveResults('webhooks', startedAt, { options: opts, tuning: stack.tuning, machine, results, goals });
    return 0;
  },
});
