/**
 * `npm run bench:hub` (tsx bench/hub.ts): the hub's deliveries, measured at loopback fakes of the providers.
 *
 * Starts a private Temporal dev server, a private `tourhub dev --no-worker` (API and embedded Postgres) and
 * a worker process (bench/hub-worker.ts: the tour worker and the rate-limited provider workers that
 * `tourhub worker` runs, plus the bare baseline's worker), with the providers' fakes
 * (test/support/fake-providers.ts) in this process. Then:
 *   latency   N tours of one organisation (CRM, calendar and email integrations on the fakes), each
 *             started and moved to its last step (not timed), then N concurrent PUT complete_tour; per
 *             tour, from sending the PUT to the moment the CRM, calendar and email fakes have all received
 *             that tour's calls (the fakes' receive times). Once with the registry's rates (the product's
 *             queues), once with every provider queue raised (this benchmark only), to show both the
 *             rate limit and the machinery's own cost.
 *   fan-out   tour completions delivered to five integrations each (adds payment, with subscription
 *             interest, and SMS with the welcome text), against a bare workflow that calls the same
 *             `deliver` activity for the same planned calls on the same provider workers, FIFO per
 *             integration, with no tour logic. Interleaved rounds; completions/s; every expected call
 *             checked at the fakes: exactly one effect each.
 * Timing never fails the run: the exit code is non-zero only when the harness broke. See bench/README.md.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createActivities } from '../activities';
import { signToken } from '../api/middleware/auth';
import { AdvanceProgressBody } from '../api/routes/tours/advance-progress';
import { resolveSecretBox } from '../cli/runtime';
import { embeddedDatabaseUrl, envSchema, loadConfig, type Config } from '../config';
import { googleEventId } from '../connectors/calendar/google/mapping';
import { subscriberHash } from '../connectors/email/mailchimp/mapping';
import { stripeIdempotencyKey } from '../connectors/payment/stripe/mapping';
import { registry } from '../connectors/registry';
import { createDb, type Db } from '../db/knex';
import { actionAad } from '../db/repositories/deliveries';
import type { SecretBox } from '../db/secrets';
import { DEMO } from '../db/seeds/demo';
import type { Category, HubEvent, HubEventDraft, PlannedAction, PlannedDelivery } from '../domain/hub';
import { plan, routeOptions } from '../domain/routes';
import { connectFakeIntegrations, deploymentEnv, startFakeProviders, type FakeProvider, type FakeProviderId, type FakeProviders } from '../test/support/fake-providers';
import { FAILURE_CONVERTER_PATH, tourDataConverter } from '../services/payload-codec';
import { temporalConnectionOptions } from '../services/temporal-connection';
import { bundleTourWorkflows } from '../worker';
import { advanceTourUpdate, tourWorkflowId } from '../workflows/tour-lifecycle/messages';
import { bareHubWorkflow } from './bare-hub-workflow';
import { median, ratio, summarize, type LatencySummary } from './lib/stats';
import { intOption, isStopping, STACK_OPTIONS, stackOptions, type StackOptions, loadAverage, machineFacts, machineLine, runBench, saveResults, startPrivateTemporal, type Machine } from './lib/harness';
import { fmt, log, sleep, spawnManaged, startDevStack, table, treeCpuMs, type Managed } from './lib/stack';

const BARE_TASK_QUEUE = 'bench-bare-hub';
const REQUEST_TIMEOUT_MS = 30_000;
/** The goal from the issue: p99 from the PUT to the last of the tour's calls at the providers. */
const GOAL_P99_MS = 1000;
/** Config variables a caller may pass through (to the API and the worker) to try a tuning. */
const TUNING_VARIABLES = ['DATABASE_POOL_MAX', 'TOUR_UPDATE_TIMEOUT_MS', 'CONNECTOR_TIMEOUT_MS'];
/**
 * Retries short enough that a fault shows within a phase rather than hours later (the fakes do not fail
 * unless told to, so none is expected): 200 ms doubling to 2 s, at most 10 attempts or 2 minutes.
 */
const HUB_ENV: Record<string, string> = {
  HUB_RETRY_INITIAL_INTERVAL: '200ms',
  HUB_RETRY_BACKOFF: '2',
  HUB_RETRY_MAX_INTERVAL: '2s',
  HUB_RETRY_MAX_ATTEMPTS: '10',
  HUB_RETRY_MAX_TIME: '2m',
};
const LATENCY_PROVIDERS: FakeProviderId[] = ['honeybook', 'google-calendar', 'mailchimp'];
const FANOUT_EXTRA_PROVIDERS: FakeProviderId[] = ['stripe', 'twilio'];
const PLAN = 'premium';
/** Events whose calls a measured tour is waited for; tour_started calls are made (and checked) during setup. */
const MEASURED_EVENTS = ['tour_completed', 'check_in_due'];

const USAGE = `Usage: npm run bench:hub -- [options]

Measures the hub's deliveries at loopback fakes of the providers on a private stack.
  --latency-tours N      tours completed at once in each latency row            default 100
  --raised-rate N        every provider queue's rate (activities/s) in the
                         raised rows and the fan-out rounds (bench only)       default 1000
  --fanout-tours N       tours completed at once per fan-out round (each path)  default 40
  --rounds N             interleaved fan-out rounds (full, bare, full, ...)     default 3
  --phase-timeout N      seconds a phase may wait for its deliveries            default 180
  --skip-default-rates   leave out the latency row with the registry's rates
  --temporal-memory      run the Temporal dev server in memory
  --keep-data            keep the temporary data folder (Postgres, Temporal db, logs)
  --no-save              do not write bench/results/hub-<timestamp>.json
Tuning variables passed through to the API and the worker when set: ${TUNING_VARIABLES.join(', ')}.`;

interface Options extends StackOptions {
  latencyTours: number;
  raisedRate: number;
  fanoutTours: number;
  rounds: number;
  phaseTimeoutS: number;
  skipDefaultRates: boolean;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      'latency-tours': { type: 'string', default: '100' },
      'raised-rate': { type: 'string', default: '1000' },
      'fanout-tours': { type: 'string', default: '40' },
      rounds: { type: 'string', default: '3' },
      'phase-timeout': { type: 'string', default: '180' },
      'skip-default-rates': { type: 'boolean', default: false },
      ...STACK_OPTIONS,
    },
    strict: true,
  });
  if (values.help) return undefined;
  return {
    latencyTours: intOption('latency-tours', values['latency-tours'], 1, 1000),
    raisedRate: intOption('raised-rate', values['raised-rate'], 1, 100_000),
    fanoutTours: intOption('fanout-tours', values['fanout-tours'], 1, 1000),
    rounds: intOption('rounds', values.rounds, 0, 50),
    phaseTimeoutS: intOption('phase-timeout', values['phase-timeout'], 10, 3600),
    skipDefaultRates: values['skip-default-rates'],
    ...stackOptions(values),
  };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// The worker process

interface WorkerProcess {
  managed: Managed;
  rate: number | undefined;
}

async function startWorkerProcess(env: NodeJS.ProcessEnv, dataDir: string, rate: number | undefined, n: number): Promise<WorkerProcess> {
  const managed = spawnManaged('the bench worker', process.execPath, ['--require', require.resolve('tsx/cjs'), path.join(__dirname, 'hub-worker.ts')], {
    env: { ...env, ...(rate !== undefined ? { BENCH_HUB_PROVIDER_RATE: String(rate) } : {}) },
    logFile: path.join(dataDir, `hub-worker-${n}.log`),
  });
  const readyBy = Date.now() + 120_000;
  for (;;) {
    const out = managed.output();
    const line = /hub worker polling[^\n]*/.exec(out);
    if (line) {
      log(line[0]);
      return { managed, rate };
    }
    const exited = managed.exited();
    if (exited || Date.now() > readyBy || isStopping()) {
      await managed.stop('SIGTERM', 10_000);
      throw new Error(`the bench worker ${exited ? `exited (${exited.signal ?? `code ${exited.code}`})` : 'was not ready within 120 s'}. Output:\n${out.slice(-4000)}`);
    }
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------
// People, tours, and what the fakes should see

interface Person {
  userId: string;
  email: string;
  phone: string;
  firstName: string;
  headers: Record<string, string>;
  progressId?: string;
  workflowId: string;
}

let personCounter = 0;

async function makePeople(db: Db, jwt: { secret: string; issuer: string; audience: string }, n: number, tag: string): Promise<Person[]> {
  const people: Person[] = [];
  for (let i = 0; i < n; i++) {
    const userId = crypto.randomUUID();
    const k = ++personCounter;
    const token = await signToken(jwt, { orgId: DEMO.orgId, userId }, 3600 * 4);
    people.push({
      userId,
      email: `bench-${tag}-${k}@hub.tourhub.test`,
      // Unique per person: Twilio has no idempotency key, so the fake tells messages apart by To|From|Body.
      phone: `+1555${String(k).padStart(7, '0')}`,
      firstName: `Bench${k}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      workflowId: tourWorkflowId(DEMO.orgId, userId, DEMO.coupleTourId),
    });
  }
  // Planning skips members without an email: every one has an email (and a phone for the SMS welcome).
  await db('organization_members').insert(
    people.map((p) => ({ organization_id: DEMO.orgId, user_id: p.userId, role: 'member', display_name: `${p.firstName} Couple`, email: p.email, phone: p.phone })),
  );
  return people;
}

async function request(url: string, init: { method: string; headers: Record<string, string>; body?: unknown }): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: init.method,
    headers: init.headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text.slice(0, 300) };
  }
  return { status: res.status, body };
}

/** Starts each person's couple tour and moves it to its last step (not timed). */
async function prepareTours(apiUrl: string, people: Person[]): Promise<void> {
  await mapLimit(people, 16, async (p) => {
    const started = await request(`${apiUrl}/api/tours/${DEMO.coupleTourId}/start`, { method: 'POST', headers: p.headers, body: {} });
    if (started.status !== 201 && started.status !== 200) throw new Error(`start: HTTP ${started.status} ${JSON.stringify(started.body).slice(0, 300)}`);
    p.progressId = started.body.progress_id as string;
    let progress = started.body.progress as { current_step_index: number; total_steps: number };
    while (progress.current_step_index < progress.total_steps - 1) {
      const moved = await request(`${apiUrl}/api/tours/progress/${p.progressId}`, { method: 'PUT', headers: p.headers, body: { action: 'next_step' } });
      if (moved.status !== 200) throw new Error(`next_step: HTTP ${moved.status} ${JSON.stringify(moved.body).slice(0, 300)}`);
      progress = moved.body.progress as typeof progress;
    }
  });
}

interface DeliveryRowLite {
  workflow_id: string;
  event_type: string;
  idempotency_key: string;
  integration_id: string;
  status: string;
  attempts: number;
  sealed_action: unknown;
  last_error: string | null;
}

async function deliveryRows(db: Db, workflowIds: string[], eventTypes?: string[]): Promise<DeliveryRowLite[]> {
  const q = db('integration_deliveries')
    .select('workflow_id', 'event_type', 'idempotency_key', 'integration_id', 'status', 'attempts', 'sealed_action', 'last_error')
    .whereIn('workflow_id', workflowIds);
  if (eventTypes) q.whereIn('event_type', eventTypes);
  return q;
}

/**
 * Waits until `expected` deliveries of these workflows (and events) exist and every one succeeded, or a
 * delivery died, or the time is up. Returns what it saw last and why it stopped.
 */
async function waitForDeliveries(db: Db, workflowIds: string[], eventTypes: string[] | undefined, expected: number, timeoutMs: number): Promise<{ ok: boolean; why: string; rows: DeliveryRowLite[] }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const counts = (await db('integration_deliveries')
      .select('status')
      .count<{ status: string; n: string }[]>({ n: '*' })
      .whereIn('workflow_id', workflowIds)
      .modify((q) => {
        if (eventTypes) q.whereIn('event_type', eventTypes);
      })
      .groupBy('status')) as { status: string; n: string | number }[];
    const by = Object.fromEntries(counts.map((c) => [c.status, Number(c.n)]));
    const total = Object.values(by).reduce((a, b) => a + b, 0);
    const done = by.succeeded ?? 0;
    const dead = by.dead ?? 0;
    if (done >= expected && total === done) return { ok: true, why: `${done} delivered`, rows: await deliveryRows(db, workflowIds, eventTypes) };
    if (dead > 0) return { ok: false, why: `${dead} dead`, rows: await deliveryRows(db, workflowIds, eventTypes) };
    if (Date.now() > until || isStopping()) {
      return {
        ok: false,
        why: `${isStopping() ? 'interrupted' : `timed out after ${timeoutMs / 1000} s`}: ${total} of ${expected} planned, ${JSON.stringify(by)}`,
        rows: await deliveryRows(db, workflowIds, eventTypes),
      };
    }
    await sleep(200);
  }
}

/**
 * The identity under which a fake records a planned call's effect (see the table at the top of
 * test/support/fake-providers.ts), computed from the call the planner made: our idempotency key where the
 * provider sees it (or an id derived from it), otherwise what the provider dedupes on.
 */
function fakeIdentity(provider: string, key: string, action: PlannedAction, fakes: FakeProviders): { fake: FakeProviderId; identity: string } {
  switch (provider) {
    case 'honeybook':
      return { fake: 'honeybook', identity: key };
    case 'google-calendar':
      return { fake: 'google-calendar', identity: googleEventId(key) };
    case 'mailchimp': {
      const settings = fakes.get('mailchimp').integration.settings as { listId: string; sequences: Record<string, { journeyId: number; stepId: number }> };
      if (action.category === 'email' && action.method === 'upsertSubscriber') return { fake: 'mailchimp', identity: `member:${settings.listId}:${subscriberHash(action.input.person.email)}` };
      if (action.category === 'email' && action.method === 'triggerSequence') {
        const step = settings.sequences[action.input.sequence]!;
        return { fake: 'mailchimp', identity: `journey:${step.journeyId}/${step.stepId}:${action.input.email.trim().toLowerCase()}` };
      }
      break;
    }
    case 'stripe':
      // The last of its two writes (find-or-create the customer, then record the interest on it).
      return { fake: 'stripe', identity: stripeIdempotencyKey(key, 'subscription-interest') };
    case 'twilio': {
      const from = (fakes.get('twilio').integration.settings as { from: string }).from;
      if (action.category === 'sms') return { fake: 'twilio', identity: `${action.input.to}|${from}|${action.input.body}` };
      break;
    }
  }
  throw new Error(`no fake identity for ${provider} ${action.category}.${action.method}`);
}

interface Expected {
  workflowId: string;
  eventType: string;
  provider: string;
  fake: FakeProviderId;
  identity: string;
  key: string;
}

/** The first time each identity's write reached its fake (not a fault), and how many did. */
function fakeIndex(fakes: FakeProviders): { first: Map<string, number>; requests: Map<string, number>; effects: Map<string, number> } {
  const first = new Map<string, number>();
  const requests = new Map<string, number>();
  const effects = new Map<string, number>();
  for (const f of fakes.list) {
    for (const c of f.calls()) {
      if (c.kind !== 'write' || c.key === undefined || c.outcome === 'fault') continue;
      const id = `${f.id}\u0000${c.key}`;
      if (!first.has(id) || c.receivedAt < first.get(id)!) first.set(id, c.receivedAt);
      requests.set(id, (requests.get(id) ?? 0) + 1);
      if (c.outcome === 'applied') effects.set(id, (effects.get(id) ?? 0) + 1);
    }
  }
  return { first, requests, effects };
}

interface Check {
  expected: number;
  /** Expected calls with no effect at the fake. */
  lost: string[];
  /** Expected calls whose effect happened more than once. */
  doubled: string[];
  /** Expected calls the provider received more than once but absorbed (a retry after a lost answer). */
  repeatedRequests: number;
  /** Deliveries that took more than one attempt (Postgres: integration_deliveries.attempts), with their keys. */
  retried: string[];
  /** The workflows those deliveries belong to (their histories say why: see explainRetries). */
  retriedWorkflows: string[];
}

function check(expected: Expected[], idx: ReturnType<typeof fakeIndex>, rows: DeliveryRowLite[] = []): Check {
  const lost: string[] = [];
  const doubled: string[] = [];
  let repeatedRequests = 0;
  for (const e of expected) {
    const id = `${e.fake}\u0000${e.identity}`;
    const n = idx.effects.get(id) ?? 0;
    if (n === 0) lost.push(`${e.workflowId} ${e.eventType} ${e.provider} ${e.key}`);
    if (n > 1) doubled.push(`${e.workflowId} ${e.eventType} ${e.provider} ${e.key} (${n} effects)`);
    if ((idx.requests.get(id) ?? 0) > 1) repeatedRequests++;
  }
  const retried = rows.filter((r) => r.attempts > 1).map((r) => `${r.idempotency_key} (${r.attempts} attempts${r.last_error ? `, last error ${r.last_error.slice(0, 120)}` : ''})`);
  const retriedWorkflows = [...new Set(rows.filter((r) => r.attempts > 1).map((r) => r.workflow_id))];
  return { expected: expected.length, lost, doubled, repeatedRequests, retried, retriedWorkflows };
}

function expectedFromRows(rows: DeliveryRowLite[], box: SecretBox, providerOf: Map<string, string>, fakes: FakeProviders): Expected[] {
  return rows.map((r) => {
    const action = box.open<PlannedAction>(r.sealed_action as never, actionAad(r.idempotency_key));
    const provider = providerOf.get(r.integration_id)!;
    return { workflowId: r.workflow_id, eventType: r.event_type, provider, key: r.idempotency_key, ...fakeIdentity(provider, r.idempotency_key, action, fakes) };
  });
}

/** How many calls one tour event makes to these integrations (the same routes the planner uses). */
function callsPerEvent(types: HubEvent['type'][], integrations: { type: string; settings: Record<string, unknown> }[], timeZone: string): number {
  const person = { email: 'x@hub.tourhub.test', firstName: 'X', phone: '+15550000000' };
  let n = 0;
  for (const type of types) {
    const event: HubEvent = {
      eventId: 'e',
      type,
      orgId: DEMO.orgId,
      userId: 'u',
      tourId: DEMO.coupleTourId,
      tourName: 't',
      progressId: 'p',
      occurredAt: new Date().toISOString(),
      person,
      ...(type === 'tour_completed' ? { subscriptionInterest: { plan: PLAN } } : {}),
      ...(type === 'check_in_due' ? { checkIn: { number: 1, of: 4, at: new Date().toISOString() } } : {}),
    };
    for (const i of integrations) n += plan(i.type as Category, event, routeOptions(i.settings, timeZone)).length;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Phases

interface CpuProbe {
  read(): Record<string, number | undefined>;
}

function cpuDelta(before: Record<string, number | undefined>, after: Record<string, number | undefined>, per: number): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const key of Object.keys(after)) {
    const a = after[key];
    const b = before[key];
    out[key] = a !== undefined && b !== undefined && per > 0 ? (a - b) / per : undefined;
  }
  const parts = Object.values(out);
  out.total = parts.length && parts.every((v) => v !== undefined) ? parts.reduce((a, b) => a! + b!, 0) : undefined;
  return out;
}

interface LatencyResult {
  label: string;
  rates: string;
  tours: number;
  /** PUT sent -> the CRM, calendar and email fakes all had the tour_completed calls. */
  completedMs: LatencySummary;
  /** The same, including the first check-in's calls (booked at completion with the default lead). */
  withCheckInMs: LatencySummary;
  /** The PUT's own answer time. */
  putMs: LatencySummary;
  /** First PUT sent to the last expected call received. */
  drainMs: number;
  httpErrors: string[];
  check: Check;
  /** The tour that took longest (tour_completed calls), to look up with `temporal workflow show`. */
  slowest: { workflowId: string; ms: number } | undefined;
  problems: string[];
}

interface Ctx {
  apiUrl: string;
  db: Db;
  box: SecretBox;
  jwt: { secret: string; issuer: string; audience: string };
  fakes: FakeProviders;
  client: Client;
  config: Config;
  opts: Options;
  cpu: CpuProbe;
  /** Integration id -> provider id. */
  providerOf: Map<string, string>;
  integrations: { type: string; settings: Record<string, unknown> }[];
  timeZone: string;
}

async function activeIntegrations(ctx: Ctx): Promise<void> {
  const rows = (await ctx.db('organization_integrations').select('id', 'provider', 'type', 'settings').where({ organization_id: DEMO.orgId, is_active: true })) as {
    id: string;
    provider: string;
    type: string;
    settings: Record<string, unknown>;
  }[];
  ctx.providerOf = new Map(rows.map((r) => [r.id, r.provider]));
  ctx.integrations = rows.map((r) => ({ type: r.type, settings: r.settings }));
}

/** tour_started made a CRM call per tour during setup: wait for them (and check them) before timing. */
async function settleSetup(ctx: Ctx, people: Person[], what: string): Promise<string[]> {
  const expected = people.length * callsPerEvent(['tour_started'], ctx.integrations, ctx.timeZone);
  const waited = await waitForDeliveries(ctx.db, people.map((p) => p.workflowId), ['tour_started'], expected, ctx.opts.phaseTimeoutS * 1000);
  const problems: string[] = [];
  if (!waited.ok) problems.push(`${what}: tour_started deliveries: ${waited.why}`);
  const c = check(expectedFromRows(waited.rows, ctx.box, ctx.providerOf, ctx.fakes), fakeIndex(ctx.fakes), waited.rows);
  if (c.lost.length || c.doubled.length) problems.push(`${what}: tour_started calls lost ${c.lost.length}, doubled ${c.doubled.length}: ${[...c.lost, ...c.doubled].slice(0, 3).join('; ')}`);
  return problems;
}

async function latencyPhase(ctx: Ctx, label: string, rates: string): Promise<LatencyResult> {
  const n = ctx.opts.latencyTours;
  log(`${label}: ${n} people, tours started and moved to their last step (not timed)`);
  const people = await makePeople(ctx.db, ctx.jwt, n, `lat${personCounter}`);
  await prepareTours(ctx.apiUrl, people);
  const problems = await settleSetup(ctx, people, label);
  await sleep(500);

  log(`${label}: ${n} concurrent PUT complete_tour`);
  const sentAt = new Map<string, number>();
  const put: number[] = [];
  const httpErrors: string[] = [];
  const t0 = Date.now();
  await Promise.all(
    people.map(async (p) => {
      const start = Date.now();
      sentAt.set(p.workflowId, start);
      try {
        const res = await request(`${ctx.apiUrl}/api/tours/progress/${p.progressId}`, { method: 'PUT', headers: p.headers, body: { action: 'complete_tour' } });
        if (res.status !== 200) httpErrors.push(`HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
        else put.push(Date.now() - start);
      } catch (err) {
        httpErrors.push((err as Error).message);
      }
    }),
  );
  const perTour = callsPerEvent(['tour_completed', 'check_in_due'], ctx.integrations, ctx.timeZone);
  const ids = people.map((p) => p.workflowId);
  const waited = await waitForDeliveries(ctx.db, ids, MEASURED_EVENTS, n * perTour, ctx.opts.phaseTimeoutS * 1000);
  if (!waited.ok) problems.push(`${label}: ${waited.why}`);
  const expected = expectedFromRows(waited.rows, ctx.box, ctx.providerOf, ctx.fakes);
  const idx = fakeIndex(ctx.fakes);
  const c = check(expected, idx, waited.rows);
  problems.push(...planningProblems(label, people, expected, ctx));

  const completed: number[] = [];
  const withCheckIn: number[] = [];
  let slowest: LatencyResult['slowest'];
  let last = t0;
  for (const p of people) {
    const mine = expected.filter((e) => e.workflowId === p.workflowId);
    const at = (es: Expected[]) => {
      const times = es.map((e) => idx.first.get(`${e.fake}\u0000${e.identity}`));
      return times.every((t) => t !== undefined) && times.length > 0 ? Math.max(...(times as number[])) : undefined;
    };
    const done = at(mine.filter((e) => e.eventType === 'tour_completed'));
    const all = at(mine);
    if (done !== undefined) {
      const ms = done - sentAt.get(p.workflowId)!;
      completed.push(ms);
      if (!slowest || ms > slowest.ms) slowest = { workflowId: p.workflowId, ms };
    }
    if (all !== undefined) {
      withCheckIn.push(all - sentAt.get(p.workflowId)!);
      last = Math.max(last, all);
    }
  }
  if (completed.length < n) problems.push(`${label}: ${n - completed.length} of ${n} tours never had all their tour_completed calls received (left out of the latency)`);
  const result: LatencyResult = {
    label,
    rates,
    tours: n,
    completedMs: summarize(completed),
    withCheckInMs: summarize(withCheckIn),
    putMs: summarize(put),
    drainMs: last - t0,
    httpErrors,
    check: c,
    slowest,
    problems,
  };
  log(`  ${label}: p50 ${fmt(result.completedMs.p50, 0)} ms, p99 ${fmt(result.completedMs.p99, 0)} ms, max ${fmt(result.completedMs.max, 0)} ms; lost ${c.lost.length}, doubled ${c.doubled.length}`);
  return result;
}

/** Tours whose planned calls are not what their integrations route (a tour the planner skipped, say). */
function planningProblems(label: string, people: Person[], expected: Expected[], ctx: Ctx): string[] {
  const perCompleted = callsPerEvent(['tour_completed'], ctx.integrations, ctx.timeZone);
  const perCheckIn = callsPerEvent(['check_in_due'], ctx.integrations, ctx.timeZone);
  const wrong: string[] = [];
  for (const p of people) {
    const mine = expected.filter((e) => e.workflowId === p.workflowId);
    const c = mine.filter((e) => e.eventType === 'tour_completed').length;
    const k = mine.filter((e) => e.eventType === 'check_in_due').length;
    if (c !== perCompleted || k !== perCheckIn) wrong.push(`${p.workflowId}: ${c} tour_completed and ${k} check_in_due calls planned, expected ${perCompleted} and ${perCheckIn}`);
  }
  return wrong.length ? [`${label}: ${wrong.length} tours planned other calls than expected, e.g. ${wrong.slice(0, 3).join('; ')}`] : [];
}

interface FanoutResult {
  path: 'full' | 'bare';
  round: number;
  tours: number;
  calls: number;
  /** Completions whose calls (all of them, check-in included) reached the fakes, per second of wall time. */
  perSecond: number;
  drainMs: number;
  /** Per tour: first send -> its last call received. */
  tourMs: LatencySummary;
  cpuMsPerTour: Record<string, number | undefined>;
  check: Check;
  slowest: { workflowId: string; ms: number } | undefined;
  errors: string[];
  problems: string[];
}

/** How the full path completes a tour: the API when it takes subscription interest, else the workflow update the API would send. */
const API_TAKES_INTEREST = 'subscription_interest' in AdvanceProgressBody.shape;

async function fanoutFull(ctx: Ctx, round: number): Promise<FanoutResult> {
  const n = ctx.opts.fanoutTours;
  const people = await makePeople(ctx.db, ctx.jwt, n, `fan${round}f`);
  await prepareTours(ctx.apiUrl, people);
  const problems = await settleSetup(ctx, people, `round ${round} full`);
  await sleep(500);
  const errors: string[] = [];
  const cpuBefore = ctx.cpu.read();
  const t0 = Date.now();
  await Promise.all(
    people.map(async (p) => {
      try {
        if (API_TAKES_INTEREST) {
          const res = await request(`${ctx.apiUrl}/api/tours/progress/${p.progressId}`, {
            method: 'PUT',
            headers: p.headers,
            body: { action: 'complete_tour', subscription_interest: { plan: PLAN } },
          });
          if (res.status !== 200) errors.push(`HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
        } else {
          await ctx.client.connection.withDeadline(Date.now() + REQUEST_TIMEOUT_MS, () =>
            ctx.client.workflow.getHandle(p.workflowId).executeUpdate(advanceTourUpdate, { args: [{ action: 'complete_tour', subscriptionInterest: { plan: PLAN } }] }),
          );
        }
      } catch (err) {
        errors.push((err as Error).message);
      }
    }),
  );
  return finishFanout(ctx, 'full', round, people, t0, cpuBefore, errors, problems);
}

async function fanoutBare(ctx: Ctx, round: number): Promise<FanoutResult> {
  const n = ctx.opts.fanoutTours;
  const people = await makePeople(ctx.db, ctx.jwt, n, `fan${round}b`);
  // Planned here, before the clock, by the same planner the tour workflow calls (rows included).
  const activities = createActivities({ db: ctx.db, box: ctx.box, hub: ctx.config.hub });
  const inputs = await mapLimit(people, 8, async (p) => {
    p.workflowId = `bench-bare-hub:${p.userId}`;
    const occurredAt = new Date().toISOString();
    const events: HubEventDraft[] = [
      { eventId: `${p.workflowId}:1.0`, type: 'tour_completed', occurredAt, subscriptionInterest: { plan: PLAN } },
      { eventId: `${p.workflowId}:1.check-in-1`, type: 'check_in_due', occurredAt, checkIn: { number: 1, of: 4, at: new Date(Date.now() + 86_400_000).toISOString() } },
    ];
    const deliveries: PlannedDelivery[] = await activities.planDeliveries({
      workflowId: p.workflowId,
      orgId: DEMO.orgId,
      userId: p.userId,
      tourId: DEMO.coupleTourId,
      tourName: 'Welcome to your wedding dashboard',
      progressId: crypto.randomUUID(),
      events,
    });
    return { workflowId: p.workflowId, deliveries };
  });
  await sleep(500);
  const errors: string[] = [];
  const cpuBefore = ctx.cpu.read();
  const t0 = Date.now();
  const handles = await Promise.all(
    inputs.map(async (input) => {
      try {
        return await ctx.client.workflow.start(bareHubWorkflow, { taskQueue: BARE_TASK_QUEUE, workflowId: input.workflowId, args: [{ deliveries: input.deliveries, retry: ctx.config.hub.retry }] });
      } catch (err) {
        errors.push((err as Error).message);
        return undefined;
      }
    }),
  );
  const result = await finishFanout(ctx, 'bare', round, people, t0, cpuBefore, errors, []);
  // Each bare run says how many deliveries it made: compare with what it was given.
  await Promise.all(
    handles.map(async (h, i) => {
      if (!h) return;
      try {
        const made = await ctx.client.connection.withDeadline(Date.now() + 10_000, () => h.result());
        if (made !== inputs[i]!.deliveries.length) result.problems.push(`${h.workflowId} made ${made} deliveries of ${inputs[i]!.deliveries.length}`);
      } catch (err) {
        result.problems.push(`${h.workflowId}: ${(err as Error).message}`);
      }
    }),
  );
  return result;
}

async function finishFanout(
  ctx: Ctx,
  pathKey: 'full' | 'bare',
  round: number,
  people: Person[],
  t0: number,
  cpuBefore: Record<string, number | undefined>,
  errors: string[],
  problems: string[],
): Promise<FanoutResult> {
  const n = people.length;
  const perTour = callsPerEvent(['tour_completed', 'check_in_due'], ctx.integrations, ctx.timeZone);
  const waited = await waitForDeliveries(ctx.db, people.map((p) => p.workflowId), MEASURED_EVENTS, n * perTour, ctx.opts.phaseTimeoutS * 1000);
  const cpuAfter = ctx.cpu.read();
  if (!waited.ok) problems.push(`round ${round} ${pathKey}: ${waited.why}`);
  const expected = expectedFromRows(waited.rows, ctx.box, ctx.providerOf, ctx.fakes);
  problems.push(...planningProblems(`round ${round} ${pathKey}`, people, expected, ctx));
  const idx = fakeIndex(ctx.fakes);
  const c = check(expected, idx, waited.rows);
  let last = t0;
  let complete = 0;
  const tourMs: number[] = [];
  let slowest: FanoutResult['slowest'];
  for (const p of people) {
    const times = expected.filter((e) => e.workflowId === p.workflowId).map((e) => idx.first.get(`${e.fake}\u0000${e.identity}`));
    if (times.length === perTour && times.every((t) => t !== undefined)) {
      complete++;
      const at = Math.max(...(times as number[]));
      tourMs.push(at - t0);
      if (!slowest || at - t0 > slowest.ms) slowest = { workflowId: p.workflowId, ms: at - t0 };
      last = Math.max(last, at);
    }
  }
  const drainMs = last - t0;
  const result: FanoutResult = {
    path: pathKey,
    round,
    tours: n,
    calls: expected.length,
    perSecond: complete === n && drainMs > 0 ? complete / (drainMs / 1000) : Number.NaN,
    drainMs,
    tourMs: summarize(tourMs),
    cpuMsPerTour: cpuDelta(cpuBefore, cpuAfter, complete),
    check: c,
    slowest,
    errors,
    problems,
  };
  log(`  round ${round} ${pathKey}: ${fmt(result.perSecond, 1)} completions/s (${n} in ${fmt(drainMs / 1000, 2)} s, ${expected.length} calls); lost ${c.lost.length}, doubled ${c.doubled.length}`);
  return result;
}

/**
 * Why deliveries took a second attempt, from the workflows' histories: each ActivityTaskStarted with
 * attempt > 1 carries the previous attempt's failure (a provider error, or the server's StartToClose
 * timeout when an attempt never finished).
 */
/** A failure's message: failures travel encrypted (workflows/failure-converter.ts), so it is decoded first. */
async function failureMessage(client: Client, failure: temporal.api.failure.v1.IFailure | null | undefined): Promise<string> {
  if (!failure) return 'unknown';
  if (!failure.encodedAttributes) return failure.message ?? 'unknown';
  const [decoded] = await client.options.loadedDataConverter.payloadCodecs[0]!.decode([failure.encodedAttributes]);
  return (JSON.parse(Buffer.from(decoded!.data!).toString()) as { message?: string }).message ?? 'unknown';
}

async function explainRetries(client: Client, workflowIds: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const workflowId of workflowIds.slice(0, 10)) {
    try {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const events = history.events ?? [];
      const t0 = Number(events[0]?.eventTime?.seconds ?? 0) * 1000 + Math.floor((events[0]?.eventTime?.nanos ?? 0) / 1e6);
      const at = (e: (typeof events)[number]) => (Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6) - t0) / 1000;
      const scheduled = new Map<string, (typeof events)[number]>();
      for (const e of events) {
        if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), e);
        const started = e.activityTaskStartedEventAttributes;
        if (started && (started.attempt ?? 1) > 1) {
          const s = scheduled.get(String(started.scheduledEventId));
          const queue = s?.activityTaskScheduledEventAttributes?.taskQueue?.name ?? '?';
          out.push(
            `${workflowId}: deliver on ${queue} scheduled at ${s ? at(s).toFixed(1) : '?'} s (event ${String(started.scheduledEventId)}), attempt ${started.attempt} started at ${at(e).toFixed(1)} s after "${await failureMessage(client, started.lastFailure)}"`,
          );
        }
      }
    } catch (err) {
      out.push(`${workflowId}: history unavailable (${(err as Error).message})`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Report

function report(
  latency: LatencyResult[],
  fanout: { full: FanoutResult; bare: FanoutResult }[],
  machine: Machine,
  opts: Options,
  fakes: FakeProviders,
  retryCauses: string[],
) {
  const out: string[] = [''];
  out.push(`Latency: ${opts.latencyTours} tours completed at once (PUT complete_tour) -> the CRM, calendar and email fakes have all of the tour's calls (honeybook, google-calendar, mailchimp)`);
  out.push('');
  out.push(
    table([
      ['provider queue rates', 'p50 ms', 'p99 ms', 'max ms', 'p99 incl. check-in ms', 'PUT p99 ms', 'all calls in s', 'calls', 'lost', 'doubled'],
      ...latency.map((l) => [
        l.rates,
        fmt(l.completedMs.p50, 0),
        fmt(l.completedMs.p99, 0),
        fmt(l.completedMs.max, 0),
        fmt(l.withCheckInMs.p99, 0),
        fmt(l.putMs.p99, 0),
        fmt(l.drainMs / 1000, 1),
        String(l.check.expected),
        String(l.check.lost.length),
        String(l.check.doubled.length),
      ]),
    ]),
  );
  for (const l of latency) {
    const ok = Number.isFinite(l.completedMs.p99) ? l.completedMs.p99 < GOAL_P99_MS : null;
    out.push(`goal p99 < ${GOAL_P99_MS} ms (${l.rates}): ${ok === null ? 'n/a' : ok ? 'met' : 'not met'} (${fmt(l.completedMs.p99, 0)} ms)`);
  }
  out.push('(each tour: 5 tour_completed calls, CRM logActivity + createTask, calendar createEvent, email upsertSubscriber + triggerSequence; "incl. check-in" adds');
  out.push(' the first check-in\'s CRM task and calendar event, which completion books at once with the default HUB_CHECK_IN_LEAD)');

  const summary: Record<string, unknown> = {};
  if (fanout.length) {
    const med = (rs: FanoutResult[], f: (r: FanoutResult) => number) => {
      const v = rs.map(f).filter((x) => Number.isFinite(x));
      return v.length ? median(v) : Number.NaN;
    };
    const full = fanout.map((r) => r.full);
    const bare = fanout.map((r) => r.bare);
    const per = fanout.map((r) => ratio(r.full.perSecond, r.bare.perSecond));
    const perCpu = fanout.map((r) => ratio(r.full.cpuMsPerTour.total ?? Number.NaN, r.bare.cpuMsPerTour.total ?? Number.NaN));
    const callsPerTour = full[0] ? full[0].calls / full[0].tours : Number.NaN;
    out.push('');
    out.push(
      `Fan-out: ${opts.fanoutTours} tour completions at once per round, each delivered to 5 integrations (${fmt(callsPerTour, 0)} calls with the first check-in), ` +
        `provider queues at ${opts.raisedRate}/s; median of ${fanout.length} interleaved round${fanout.length === 1 ? '' : 's'}; full path: ${API_TAKES_INTEREST ? 'PUT complete_tour with subscription_interest' : 'the advanceTour update the API sends (its PUT body does not take subscription_interest yet)'}`,
    );
    out.push('');
    const row = (label: string, rs: FanoutResult[]) => [
      label,
      fmt(med(rs, (r) => r.perSecond), 1),
      fmt(med(rs, (r) => (r.perSecond * r.calls) / r.tours), 0),
      fmt(med(rs, (r) => r.tourMs.p50), 0),
      fmt(med(rs, (r) => r.tourMs.max), 0),
      fmt(med(rs, (r) => r.cpuMsPerTour.total ?? Number.NaN), 1),
      String(rs.reduce((a, r) => a + r.check.lost.length, 0)),
      String(rs.reduce((a, r) => a + r.check.doubled.length, 0)),
    ];
    const ratioPerSecond = median(per.filter(Number.isFinite));
    const ratioCpu = median(perCpu.filter(Number.isFinite));
    out.push(
      table([
        ['path', 'completions/s', 'calls/s', 'tour done p50 ms', 'last tour ms', 'CPU ms/completion', 'lost', 'doubled'],
        row('full (tour workflow)', full),
        row('bare (deliver only)', bare),
        ['ratio full/bare', `${fmt(ratioPerSecond, 2)}x`, '', '', '', `${fmt(ratioCpu, 2)}x`, '', ''],
      ]),
    );
    out.push('(ratio row: median of the per-round ratios; tour done: from the first send to the tour\'s last call received)');
    out.push('');
    out.push('per round:');
    const rows: string[][] = [['round', 'path', 'completions/s', 'all in s', 'calls', 'repeated requests', 'CPU ms/completion bench|worker|api|pg|temporal = total']];
    for (const r of fanout) {
      for (const x of [r.full, r.bare]) {
        const c = x.cpuMsPerTour;
        rows.push([
          String(x.round),
          x.path,
          fmt(x.perSecond, 1),
          fmt(x.drainMs / 1000, 2),
          String(x.calls),
          String(x.check.repeatedRequests),
          `${[c.bench, c.worker, c.api, c.postgres, c.temporal].map((v) => fmt(v, 1)).join('|')} = ${fmt(c.total, 1)}`,
        ]);
      }
    }
    out.push(table(rows));
    summary.fanout = {
      full: { perSecond: med(full, (r) => r.perSecond), cpuMsPerTour: med(full, (r) => r.cpuMsPerTour.total ?? Number.NaN) },
      bare: { perSecond: med(bare, (r) => r.perSecond), cpuMsPerTour: med(bare, (r) => r.cpuMsPerTour.total ?? Number.NaN) },
      ratio: { perSecond: ratioPerSecond, cpu: ratioCpu, perRound: per },
    };
  }
  summary.latency = latency.map((l) => ({ rates: l.rates, p50: l.completedMs.p50, p99: l.completedMs.p99, max: l.completedMs.max, withCheckInP99: l.withCheckInMs.p99 }));

  const problems: string[] = [];
  for (const l of latency) {
    problems.push(...l.problems);
    if (l.httpErrors.length) problems.push(`${l.label}: ${l.httpErrors.length} PUTs failed, e.g. ${l.httpErrors.slice(0, 3).join(' / ')}`);
    for (const x of [...l.check.lost.slice(0, 5).map((s) => `lost: ${s}`), ...l.check.doubled.slice(0, 5).map((s) => `doubled: ${s}`)]) problems.push(`${l.label}: ${x}`);
  }
  for (const r of fanout) {
    for (const x of [r.full, r.bare]) {
      const where = `round ${x.round} ${x.path}`;
      problems.push(...x.problems);
      if (x.errors.length) problems.push(`${where}: ${x.errors.length} sends failed, e.g. ${x.errors.slice(0, 3).join(' / ')}`);
      for (const s of [...x.check.lost.slice(0, 5).map((v) => `lost: ${v}`), ...x.check.doubled.slice(0, 5).map((v) => `doubled: ${v}`)]) problems.push(`${where}: ${s}`);
    }
  }
  const notes: string[] = [];
  for (const l of latency) {
    if (l.slowest) notes.push(`${l.label}: slowest tour ${l.slowest.workflowId} (${fmt(l.slowest.ms, 0)} ms)`);
    if (l.check.retried.length) notes.push(`${l.label}: ${l.check.retried.length} deliveries took more than one attempt, e.g. ${l.check.retried.slice(0, 3).join('; ')}`);
  }
  for (const r of fanout) {
    for (const x of [r.full, r.bare]) {
      if (x.slowest) notes.push(`round ${x.round} ${x.path}: slowest tour ${x.slowest.workflowId} (${fmt(x.slowest.ms, 0)} ms from the first send)`);
      if (x.check.retried.length) notes.push(`round ${x.round} ${x.path}: ${x.check.retried.length} deliveries took more than one attempt, e.g. ${x.check.retried.slice(0, 3).join('; ')}`);
    }
  }
  const duplicates = fakes.list.flatMap((f) => f.duplicates().map((d) => `${f.id} ${d.key} x${d.calls.length}`));
  if (duplicates.length) problems.push(`the fakes saw ${duplicates.length} effects more than once over the whole run, e.g. ${duplicates.slice(0, 5).join('; ')}`);
  out.push('');
  if (problems.length) {
    out.push('problems:');
    for (const p of problems) out.push(`  ${p}`);
  } else {
    out.push('every expected call reached its fake with exactly one effect; no request failed');
  }
  for (const c of retryCauses) notes.push(`retry: ${c}`);
  if (notes.length) {
    out.push('notes:');
    for (const n of notes) out.push(`  ${n}`);
  }
  out.push(`fakes: ${fakes.list.map((f) => f.summary()).join(' | ')}`);
  out.push('');
  out.push(machineLine(machine));
  return { text: out.join('\n'), summary, problems, notes };
}

// ---------------------------------------------------------------------------------------------
// Main

runBench<Options>({
  usage: USAGE,
  parse: parseOptions,
  onFirstSignal: 'stopping after the phase in progress gives up',
  run: async (opts, cleanups, startedAt) => {
    const baseConfig = loadConfig();
    const jwtDefaults = loadConfig({});
    const { dataDir, apiPort, pgPort, binary, address, server } = await startPrivateTemporal('tourhub-bench-hub-', opts, baseConfig.temporal.cliPath, cleanups);

    log('starting tourhub dev --no-worker and bundling the workflows...');
    const silent = { info: () => undefined, warn: () => undefined, error: (m: string) => log(`bundle: ${m}`), debug: () => undefined, trace: () => undefined, log: () => undefined };
    const bundles = Promise.all([
      // As the product's worker bundles it (with the failure converter that encrypts failure messages).
      bundleTourWorkflows(silent).then((code) => ({ code })),
      bundleWorkflowCode({ workflowsPath: require.resolve('./bare-hub-workflow'), failureConverterPath: FAILURE_CONVERTER_PATH, logger: silent }),
    ]);
    bundles.catch(() => undefined);
    // The fakes first: the deployment names them as the providers' hosts (CONNECTOR_BASE_URLS), for the
    // API (which checks integrations' addresses) as for the worker.
    const fakes = await startFakeProviders({ only: [...LATENCY_PROVIDERS, ...FANOUT_EXTRA_PROVIDERS] });
    cleanups.push('fake providers', () => fakes.close());
    const outboundEnv = deploymentEnv(fakes.list);
    const stack = await startDevStack({ dataDir, apiPort, pgPort, temporalAddress: address, args: ['--no-worker'], passThrough: TUNING_VARIABLES, env: { ...HUB_ENV, ...outboundEnv }, isStopping });
    cleanups.push('tourhub dev', () => stack.process.stop('SIGINT', 60_000));
    log(`tourhub dev ready at ${stack.apiUrl}`);
    const [tourBundle, bareBundle] = await bundles;
    const tourBundlePath = path.join(dataDir, 'workflow-bundle.js');
    const bareBundlePath = path.join(dataDir, 'bare-hub-bundle.js');
    fs.writeFileSync(tourBundlePath, tourBundle.code);
    fs.writeFileSync(bareBundlePath, bareBundle.code);

    // The worker's environment: ours minus configuration, then the stack's, the bundles and the hub's.
    const workerEnv: NodeJS.ProcessEnv = {};
    const configKeys = new Set(Object.keys(envSchema.shape));
    for (const [k, v] of Object.entries(process.env)) if (!configKeys.has(k) || TUNING_VARIABLES.includes(k)) workerEnv[k] = v;
    Object.assign(workerEnv, {
      TOURHUB_ENV: 'development',
      LOG_LEVEL: 'warn',
      TOURHUB_DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(pgPort),
      TEMPORAL_ADDRESS: address,
      PORT: String(apiPort),
      TOURHUB_WORKFLOW_BUNDLE: tourBundlePath,
      BENCH_HUB_BARE_BUNDLE: bareBundlePath,
      BENCH_HUB_BARE_QUEUE: BARE_TASK_QUEUE,
      // The Google fake's tokens never expire, so no refresh is made; the client must merely be configured.
      GOOGLE_OAUTH_CLIENT_ID: 'bench-client',
      GOOGLE_OAUTH_CLIENT_SECRET: 'bench-secret',
      ...HUB_ENV,
      ...outboundEnv,
    });
    const config = loadConfig(workerEnv as Record<string, string>);

    const db = createDb(embeddedDatabaseUrl(config), { poolMax: 4, applicationName: 'tourhub-bench' });
    cleanups.push('bench database pool', () => db.destroy());
    const box = resolveSecretBox(config, { create: false });
    const secret = fs.readFileSync(path.join(dataDir, 'jwt-secret'), 'utf8').trim();
    const jwt = { secret, issuer: jwtDefaults.jwt.issuer, audience: jwtDefaults.jwt.audience };
    const connection = await Connection.connect(temporalConnectionOptions(config));
    cleanups.push('Temporal client', () => connection.close());
    // The product's data converter: payloads encrypted with the stack's keyring, as the API sends them.
    const client = new Client({ connection, namespace: 'default', dataConverter: tourDataConverter(box) });

    let workerN = 0;
    let worker: WorkerProcess | undefined;
    const useWorker = async (rate: number | undefined) => {
      if (worker && worker.rate === rate) return;
      if (worker) await worker.managed.stop('SIGINT', 30_000);
      worker = await startWorkerProcess(workerEnv, dataDir, rate, ++workerN);
    };
    cleanups.push('bench worker', async () => worker?.managed.stop('SIGINT', 30_000));

    const org = (await db('organizations').select('time_zone').where({ id: DEMO.orgId }).first()) as { time_zone: string };
    const adminToken = await signToken(jwt, { orgId: DEMO.orgId, userId: DEMO.adminUserId }, 3600 * 4);
    const connect = (ids: FakeProviderId[]) =>
      connectFakeIntegrations({ apiUrl: stack.apiUrl, adminToken, orgId: DEMO.orgId, db, box, fakes: ids.map((id) => fakes.get(id)) as FakeProvider[] });

    const ctx: Ctx = {
      apiUrl: stack.apiUrl,
      db,
      box,
      jwt,
      fakes,
      client,
      config,
      opts,
      providerOf: new Map(),
      integrations: [],
      timeZone: org.time_zone,
      cpu: {
        read: () => {
          const u = process.cpuUsage();
          const w = treeCpuMs(worker?.managed.pid);
          const s = treeCpuMs(stack.process.pid);
          const t = treeCpuMs(server.pid);
          return { bench: (u.user + u.system) / 1000, worker: w && w.self + w.descendants, api: s?.self, postgres: s?.descendants, temporal: t && t.self + t.descendants };
        },
      },
    };

    const loadBefore = loadAverage();
    await connect(LATENCY_PROVIDERS);
    await activeIntegrations(ctx);
    const defaultRates = LATENCY_PROVIDERS.map((id) => `${id} ${registry.get(id)!.ratePerSecond}/s`).join(', ');
    const latency: LatencyResult[] = [];
    if (!opts.skipDefaultRates && !isStopping()) {
      await useWorker(undefined);
      latency.push(await latencyPhase(ctx, 'latency, registry rates', `registry (${defaultRates})`));
    }
    if (!isStopping()) {
      await useWorker(opts.raisedRate);
      latency.push(await latencyPhase(ctx, 'latency, raised rates', `all raised to ${opts.raisedRate}/s (bench only)`));
    }

    const fanout: { full: FanoutResult; bare: FanoutResult }[] = [];
    if (opts.rounds > 0 && !isStopping()) {
      await connect(FANOUT_EXTRA_PROVIDERS);
      await activeIntegrations(ctx);
      await useWorker(opts.raisedRate);
      for (let round = 1; round <= opts.rounds && !isStopping(); round++) {
        log(`fan-out round ${round}/${opts.rounds}: full then bare, ${opts.fanoutTours} completions each`);
        const full = await fanoutFull(ctx, round);
        if (isStopping()) break;
        const bare = await fanoutBare(ctx, round);
        fanout.push({ full, bare });
      }
    }
    if (isStopping()) {
      log('interrupted; no report');
      return 130;
    }

    const machine = await machineFacts({ loadBefore, binary, temporalMemory: opts.temporalMemory });
    const retried = [...latency.map((l) => l.check), ...fanout.flatMap((r) => [r.full.check, r.bare.check])].flatMap((c) => c.retriedWorkflows);
    const retryCauses = await explainRetries(client, retried);
    const { text, summary, problems, notes } = report(latency, fanout, machine, opts, fakes, retryCauses);
    process.stdout.write(`${text}\n`);
    if (opts.save) {
      const strip = (c: Check) => ({ ...c, lost: c.lost.slice(0, 20), doubled: c.doubled.slice(0, 20), retried: c.retried.slice(0, 20) });
      saveResults('hub', startedAt, {
        options: opts,
        hubEnv: HUB_ENV,
        fullPathVia: API_TAKES_INTEREST ? 'PUT' : 'advanceTour update',
        machine,
        summary,
        problems,
        notes,
        latency: latency.map((l) => ({ ...l, check: strip(l.check) })),
        fanout: fanout.map((r) => ({ full: { ...r.full, check: strip(r.full.check) }, bare: { ...r.bare, check: strip(r.bare.check) } })),
      });
    }
    return 0;
  },
});
