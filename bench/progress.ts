/**
 * `npm run bench` (tsx bench/progress.ts): the cost of moving a tour one step.
 *
 * Starts a private Temporal dev server and a private `tourhub dev` stack (own ports, own temporary data
 * folder, so a stack already running on the default ports is never touched), then measures two paths
 * against the same Temporal server, in interleaved rounds:
 *   full  PUT /api/tours/progress/:id through the API (auth, Postgres read under RLS, update-with-start,
 *         the tour workflow's validator and handler, its local activity writing Postgres, search attributes)
 *   bare  client.executeUpdate on a workflow whose update handler does nothing (bench/bare-workflow.ts),
 *         with a worker in this process on its own task queue
 * Each round runs a latency phase (one virtual user, sequential updates) and a throughput phase (N
 * virtual users sharing a fixed number of updates, or fewer when the phase reaches its time cap;
 * updates/s = successful updates / wall time) on each path.
 * `--compare limiter,codec` runs the full path twice, on two stacks side by side (each in its own
 * namespace): with the listed toggles on and with them off (TOGGLES below; each toggle is a set of the
 * stack's config variables), so a feature's cost is measured in one run, in rounds that alternate which
 * stack goes first, against the same Temporal server.
 * Prints medians across rounds, their ratio, per-round figures and the goal checks, and saves JSON to
 * bench/results/. Timing never fails the run: the exit code is non-zero only when the harness broke.
 * See bench/README.md.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { signToken } from '../api/middleware/auth';
import { resolveSecretBox } from '../cli/runtime';
import { embeddedDatabaseUrl, loadConfig } from '../config';
import { createDb, type Db } from '../db/knex';
import { FAILURE_CONVERTER_PATH, tourDataConverter } from '../services/payload-codec';
import { DEMO } from '../db/seeds/demo';
import { bareStopSignal, bareUpdate, bareWorkflow } from './bare-workflow';
import { intOption, isStopping, STACK_OPTIONS, stackOptions, type StackOptions, loadAverage, machineFacts, machineLine, runBench, saveResults, startPrivateTemporal, UsageError, type Machine } from './lib/harness';
import { fmt, freePorts, log, msSince, nowNs, startDevStack, table, treeCpuMs } from './lib/stack';
import { median, ratio, summarize, type LatencySummary } from './lib/stats';

const BARE_TASK_QUEUE = 'bench-bare';
/** Per-request limit on both paths; the API's own default for TOUR_UPDATE_TIMEOUT_MS is 10 s. */
const REQUEST_TIMEOUT_MS = 15_000;
/** Goals from the issue. */
const GOAL_P50_RATIO = 2.0;
const GOAL_THROUGHPUT = 100;
/** Config variables a caller may pass through to the benchmarked stack to try a tuning; all others are ours to set. */
const TUNING_VARIABLES = ['DATABASE_POOL_MAX', 'TOUR_UPDATE_TIMEOUT_MS', 'TOUR_CONTINUE_AS_NEW_AFTER_UPDATES', 'TOURHUB_WORKFLOW_BUNDLE', 'MEMBERSHIP_CACHE_TTL'];
/** Goal of issue 10: the full path with its protections on within this factor of the same path with them off. */
const GOAL_ON_OFF_RATIO = 1.2;

/**
 * Features of the full path that can be switched, each as the stack's config variables when on and when
 * off. "On" is how the benchmark always runs them; `--compare` adds a stack with the listed ones off.
 * A new feature to weigh is one more entry here.
 */
const TOGGLES: Record<string, { on: Record<string, string>; off: Record<string, string> }> = {
  // On: every payload the API and the worker send to Temporal sealed with AES-256-GCM (and opened again).
  codec: { on: { TEMPORAL_PAYLOAD_CODEC: 'on' }, off: { TEMPORAL_PAYLOAD_CODEC: 'off' } },
  // On: every update counted in Postgres (one upsert), at a limit the benchmark never reaches.
  limiter: {
    on: { RATE_LIMIT_PROGRESS_PER_MINUTE: '1000000', RATE_LIMIT_STARTS_PER_MINUTE: '1000000' },
    off: { RATE_LIMIT_PROGRESS_PER_MINUTE: '0', RATE_LIMIT_STARTS_PER_MINUTE: '0' },
  },
};

/** One stack the full path runs on: a name for the report and the config variables that make it. */
interface Variant {
  key: string;
  label: string;
  env: Record<string, string>;
}

function variantsOf(compare: string[]): Variant[] {
  const all = (state: 'on' | 'off', names: string[]) => Object.assign({}, ...Object.keys(TOGGLES).map((t) => TOGGLES[t]![names.includes(t) ? state : 'on']));
  if (compare.length === 0) return [{ key: 'full', label: 'full (API+workflow+Postgres)', env: all('on', []) }];
  // The two stacks share the Temporal server, each in a namespace of its own: on one, each stack's worker
  // would take the other's workflow tasks (reading the wrong Postgres), and the second stack could not
  // read the retention schedule the first one made (another keyring, or no codec at all).
  return [
    { key: 'full-on', label: `full, ${compare.join('+')} on`, env: all('on', compare) },
    { key: 'full-off', label: `full, ${compare.join('+')} off`, env: { ...all('off', compare), TEMPORAL_NAMESPACE: OFF_NAMESPACE } },
  ];
}

/** The namespace of the `--compare` stack with the toggles off (the other one, and the bare path, use `default`). */
const OFF_NAMESPACE = 'bench-off';

const USAGE = `Usage: npm run bench -- [options]

Benchmarks PUT /api/tours/progress/:id on a private "tourhub dev" stack against a bare Temporal update.
  --rounds N               interleaved rounds (full, bare, full, bare, ...)     default 3
  --warmup N               untimed updates before the latency phase             default 20
  --latency-updates N      timed sequential updates per latency phase           default 200
  --concurrency N          virtual users in the throughput phase                default 16
  --throughput-updates N   updates per throughput phase                         default 1500
  --max-phase-seconds N    end a throughput phase early after N s (reported)    default 15
  --temporal-memory        run the Temporal dev server in memory (default: a SQLite file with
                           journal_mode=WAL, synchronous=NORMAL, as "tourhub dev" does)
  --compare T[,T...]       also run the full path with these toggles off, on a second stack, and
                           compare (toggles: ${Object.keys(TOGGLES).join(', ')}); default: none, one stack with all on
  --keep-data              keep the temporary data folder (Postgres, Temporal db, logs)
  --no-save                do not write bench/results/progress-<timestamp>.json
Tuning variables passed through to the stack when set: ${TUNING_VARIABLES.join(', ')}.`;

interface Options extends StackOptions {
  /** Toggles compared on against off (--compare). */
  compare: string[];
  rounds: number;
  warmup: number;
  latencyUpdates: number;
  concurrency: number;
  throughputUpdates: number;
  maxPhaseSeconds: number;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '20' },
      'latency-updates': { type: 'string', default: '200' },
      concurrency: { type: 'string', default: '16' },
      'throughput-updates': { type: 'string', default: '1500' },
      'max-phase-seconds': { type: 'string', default: '15' },
      compare: { type: 'string', default: '' },
      ...STACK_OPTIONS,
    },
    strict: true,
  });
  if (values.help) return undefined;
  const concurrency = intOption('concurrency', values.concurrency, 1, 500);
  const throughputUpdates = intOption('throughput-updates', values['throughput-updates'], 1, 100_000);
  const latencyUpdates = intOption('latency-updates', values['latency-updates'], 1, 1500);
  const warmup = intOption('warmup', values.warmup, 0, 200);
  // Server limit: 2000 updates per workflow execution (history.maxTotalUpdates). The bare workflow never
  // continues-as-new, and the tour workflow does so only every 500 updates by default.
  if (latencyUpdates + warmup > 1800) throw new UsageError('--latency-updates plus --warmup must stay below 1800 (2000 updates per workflow run)');
  if (Math.ceil(throughputUpdates / concurrency) + 1 > 1800) throw new UsageError('--throughput-updates / --concurrency must stay below 1800 per virtual user');
  const compare = [...new Set(values.compare.split(',').map((t) => t.trim()).filter(Boolean))];
  const unknown = compare.filter((t) => !(t in TOGGLES));
  if (unknown.length) throw new UsageError(`--compare knows ${Object.keys(TOGGLES).join(', ')}, not ${unknown.join(', ')}`);
  return {
    compare,
    rounds: intOption('rounds', values.rounds, 1, 50),
    warmup,
    latencyUpdates,
    concurrency,
    throughputUpdates,
    maxPhaseSeconds: intOption('max-phase-seconds', values['max-phase-seconds'], 1, 3600),
    ...stackOptions(values),
  };
}

// ---------------------------------------------------------------------------------------------
// The two paths

/** A request that did not succeed (non-200, timeout, rejected update): counted as an error, never as latency. */
class StepError extends Error {}

interface VirtualUser {
  /** One update; resolves only on success. */
  step(): Promise<void>;
  /** Called once after the phase; returns a problem to report, if any. */
  finish(): Promise<string | undefined>;
}

interface BenchPath {
  /** `bare`, or a full-path variant's key. */
  key: string;
  label: string;
  newUser(): Promise<VirtualUser>;
  /** CPU ms so far of the processes this path runs on. */
  cpu: CpuProbe;
}

async function readBody(res: Response): Promise<string> {
  try {
    return await res.text();
  } catch (err) {
    return `(body unreadable: ${(err as Error).message})`;
  }
}

function fullPath(variant: Variant, apiUrl: string, jwt: { secret: string; issuer: string; audience: string }, cpu: CpuProbe, db: Db): BenchPath {
  return {
    key: variant.key,
    label: variant.label,
    cpu,
    async newUser() {
      const userId = crypto.randomUUID();
      // Roles come from membership: each virtual couple is a member of the demo organisation.
      await db('organization_members').insert({ organization_id: DEMO.orgId, user_id: userId, role: 'member' });
      const token = await signToken(jwt, { orgId: DEMO.orgId, userId }, 3600);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const started = await fetch(`${apiUrl}/api/tours/${DEMO.coupleTourId}/start`, {
        method: 'POST',
        headers,
        body: '{}',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const startBody = await readBody(started);
      if (started.status !== 201 && started.status !== 200) {
        throw new Error(`POST /api/tours/${DEMO.coupleTourId}/start answered ${started.status}: ${startBody.slice(0, 500)}`);
      }
      const { progress_id: progressId, progress } = JSON.parse(startBody) as { progress_id: string; progress: { current_step_index: number } };
      const url = `${apiUrl}/api/tours/progress/${progressId}`;
      let index = progress.current_step_index;
      return {
        async step() {
          // next, previous, next, ...: the tour never reaches its last step, so it never finishes.
          const action = index === 0 ? 'next_step' : 'previous_step';
          let res: Response;
          try {
            res = await fetch(url, { method: 'PUT', headers, body: JSON.stringify({ action }), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
          } catch (err) {
            throw new StepError(`PUT progress: ${(err as Error).message}`);
          }
          const text = await readBody(res);
          if (res.status !== 200) throw new StepError(`PUT progress ${action}: HTTP ${res.status} ${text.slice(0, 300)}`);
          index = (JSON.parse(text) as { progress: { current_step_index: number } }).progress.current_step_index;
        },
        async finish() {
          return undefined;
        },
      };
    },
  };
}

function barePath(client: Client, cpu: CpuProbe): BenchPath {
  return {
    key: 'bare',
    label: 'bare Temporal update',
    cpu,
    async newUser() {
      const handle: WorkflowHandle<typeof bareWorkflow> = await client.workflow.start(bareWorkflow, {
        taskQueue: BARE_TASK_QUEUE,
        workflowId: `bench-bare-${crypto.randomUUID()}`,
      });
      let ok = 0;
      let flip = false;
      return {
        async step() {
          flip = !flip;
          try {
            await client.connection.withDeadline(Date.now() + REQUEST_TIMEOUT_MS, () =>
              handle.executeUpdate(bareUpdate, { args: [{ action: flip ? 'next_step' : 'previous_step' }] }),
            );
          } catch (err) {
            throw new StepError(`executeUpdate: ${(err as Error).message}`);
          }
          ok++;
        },
        async finish() {
          try {
            await handle.signal(bareStopSignal);
            const taken = await client.connection.withDeadline(Date.now() + REQUEST_TIMEOUT_MS, () => handle.result());
            return taken === ok ? undefined : `bare workflow ${handle.workflowId} took ${taken} updates, the client saw ${ok} succeed`;
          } catch (err) {
            return `could not stop bare workflow ${handle.workflowId}: ${(err as Error).message}`;
          }
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Phases

interface CpuProbe {
  /** Name -> CPU ms so far. */
  read(): Record<string, number | undefined>;
}

interface PhaseResult {
  path: BenchPath['key'];
  phase: 'latency' | 'throughput';
  concurrency: number;
  attempted: number;
  ok: number;
  errors: number;
  errorSamples: string[];
  /** Set when the phase could not run at all (a virtual user could not be created). */
  failed?: string;
  warnings: string[];
  latencyMs: LatencySummary;
  wallMs: number;
  throughput: number;
  /** CPU ms per successful update, by process group, over the timed part of the phase. */
  cpuMsPerUpdate: Record<string, number | undefined>;
}

class ErrorLog {
  count = 0;
  samples: string[] = [];
  add(err: unknown): void {
    this.count++;
    const msg = err instanceof Error ? err.message : String(err);
    if (this.samples.length < 5 && !this.samples.includes(msg)) this.samples.push(msg);
  }
}

function cpuPerUpdate(before: Record<string, number | undefined>, after: Record<string, number | undefined>, updates: number) {
  const out: Record<string, number | undefined> = {};
  for (const key of Object.keys(after)) {
    const a = after[key];
    const b = before[key];
    out[key] = a !== undefined && b !== undefined && updates > 0 ? (a - b) / updates : undefined;
  }
  const parts = Object.values(out);
  out.total = parts.every((v) => v !== undefined) && parts.length ? parts.reduce((a, b) => a! + b!, 0) : undefined;
  return out;
}

function emptyResult(path: BenchPath['key'], phase: PhaseResult['phase'], concurrency: number, failed: string): PhaseResult {
  return {
    path,
    phase,
    concurrency,
    attempted: 0,
    ok: 0,
    errors: 0,
    errorSamples: [],
    failed,
    warnings: [],
    latencyMs: summarize([]),
    wallMs: 0,
    throughput: Number.NaN,
    cpuMsPerUpdate: {},
  };
}

async function latencyPhase(p: BenchPath, opts: Options): Promise<PhaseResult> {
  const { cpu } = p;
  let user: VirtualUser;
  try {
    user = await p.newUser();
  } catch (err) {
    return emptyResult(p.key, 'latency', 1, (err as Error).message);
  }
  const errors = new ErrorLog();
  for (let i = 0; i < opts.warmup && !isStopping(); i++) await user.step().catch((err) => errors.add(err));
  const warmupErrors = errors.count;
  const samples: number[] = [];
  const cpuBefore = cpu.read();
  const t0 = nowNs();
  let attempted = 0;
  for (let i = 0; i < opts.latencyUpdates && !isStopping(); i++) {
    attempted++;
    const start = nowNs();
    try {
      await user.step();
      samples.push(msSince(start));
    } catch (err) {
      errors.add(err);
      if (errors.count > Math.max(20, opts.latencyUpdates / 10)) break;
    }
  }
  const wallMs = msSince(t0);
  const cpuAfter = cpu.read();
  const warnings = [await user.finish()].filter((w): w is string => w !== undefined);
  if (warmupErrors) warnings.push(`${warmupErrors} warm-up updates failed`);
  return {
    path: p.key,
    phase: 'latency',
    concurrency: 1,
    attempted,
    ok: samples.length,
    errors: errors.count - warmupErrors,
    errorSamples: errors.samples,
    warnings,
    latencyMs: summarize(samples),
    wallMs,
    throughput: samples.length / (wallMs / 1000),
    cpuMsPerUpdate: cpuPerUpdate(cpuBefore, cpuAfter, samples.length),
  };
}

async function throughputPhase(p: BenchPath, opts: Options): Promise<PhaseResult> {
  const { cpu } = p;
  let users: VirtualUser[];
  try {
    users = await Promise.all(Array.from({ length: opts.concurrency }, () => p.newUser()));
  } catch (err) {
    return emptyResult(p.key, 'throughput', opts.concurrency, (err as Error).message);
  }
  const errors = new ErrorLog();
  // One untimed update each, so every connection and cached workflow is warm when the clock starts.
  await Promise.all(users.map((u) => u.step().catch((err) => errors.add(err))));
  const warmupErrors = errors.count;
  const samples: number[] = [];
  let issued = 0;
  let aborted = false;
  let timedOut = false;
  const cpuBefore = cpu.read();
  const t0 = nowNs();
  const cap = setTimeout(() => (timedOut = true), opts.maxPhaseSeconds * 1000);
  await Promise.all(
    users.map(async (u) => {
      while (!aborted && !timedOut && !isStopping() && issued < opts.throughputUpdates) {
        issued++;
        const start = nowNs();
        try {
          await u.step();
          samples.push(msSince(start));
        } catch (err) {
          errors.add(err);
          if (errors.count > Math.max(20, opts.throughputUpdates / 10)) aborted = true;
        }
      }
    }),
  );
  const wallMs = msSince(t0);
  clearTimeout(cap);
  const cpuAfter = cpu.read();
  const warnings = (await Promise.all(users.map((u) => u.finish()))).filter((w): w is string => w !== undefined);
  if (warmupErrors) warnings.push(`${warmupErrors} warm-up updates failed`);
  if (aborted) warnings.push('stopped early: too many errors');
  else if (timedOut) warnings.push(`stopped at the ${opts.maxPhaseSeconds} s cap after ${issued} of ${opts.throughputUpdates} updates (the rate is still valid)`);
  return {
    path: p.key,
    phase: 'throughput',
    concurrency: opts.concurrency,
    attempted: issued,
    ok: samples.length,
    errors: errors.count - warmupErrors,
    errorSamples: errors.samples,
    warnings,
    latencyMs: summarize(samples),
    wallMs,
    throughput: samples.length / (wallMs / 1000),
    cpuMsPerUpdate: cpuPerUpdate(cpuBefore, cpuAfter, samples.length),
  };
}

// ---------------------------------------------------------------------------------------------
// Report

interface RoundResult {
  round: number;
  /** Path key (each full-path variant, then `bare`) -> its two phases. */
  paths: Record<string, { latency: PhaseResult; throughput: PhaseResult }>;
}

interface Figures {
  p50: number;
  p99: number;
  throughput: number;
}

const figuresOf = (r: { latency: PhaseResult; throughput: PhaseResult }): Figures => ({
  p50: r.latency.latencyMs.p50,
  p99: r.latency.latencyMs.p99,
  throughput: r.throughput.throughput,
});

function medianOf(values: number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length ? median(finite) : Number.NaN;
}

const ratioOf = (a: Figures, b: Figures): Figures => ({ p50: ratio(a.p50, b.p50), p99: ratio(a.p99, b.p99), throughput: ratio(a.throughput, b.throughput) });
const med = (xs: Figures[]): Figures => ({
  p50: medianOf(xs.map((x) => x.p50)),
  p99: medianOf(xs.map((x) => x.p99)),
  throughput: medianOf(xs.map((x) => x.throughput)),
});

/**
 * Medians across rounds of every path, and of the per-round ratios: each full variant against bare and,
 * when comparing, the toggles on against off (each ratio compares measurements minutes apart at most).
 */
function summarizeRounds(rounds: RoundResult[], variants: Variant[]) {
  const keys = [...variants.map((v) => v.key), 'bare'];
  const paths = Object.fromEntries(keys.map((k) => [k, med(rounds.map((r) => figuresOf(r.paths[k]!)))]));
  const perRound = (a: string, b: string) => rounds.map((r) => ratioOf(figuresOf(r.paths[a]!), figuresOf(r.paths[b]!)));
  const vsBare = Object.fromEntries(variants.map((v) => [v.key, med(perRound(v.key, 'bare'))]));
  const onOff = variants.length === 2 ? med(perRound(variants[0]!.key, variants[1]!.key)) : undefined;
  return { paths, vsBare, onOff };
}

function report(
  rounds: RoundResult[],
  variants: Variant[],
  machine: Machine,
  opts: Options,
): { text: string; summary: ReturnType<typeof summarizeRounds>; goals: Record<string, boolean | null> } {
  const s = summarizeRounds(rounds, variants);
  const labels: Record<string, string> = { ...Object.fromEntries(variants.map((v) => [v.key, v.label])), bare: 'bare Temporal update' };
  const out: string[] = [];
  out.push('');
  out.push(
    `PUT /api/tours/progress/:id vs a bare Temporal update, median of ${rounds.length} interleaved round${rounds.length === 1 ? '' : 's'}` +
      ` (latency: 1 user x ${opts.latencyUpdates} updates after ${opts.warmup} warm-up; throughput: ${opts.concurrency} users, ${opts.throughputUpdates} updates)`,
  );
  out.push('');
  const rows: string[][] = [['path', 'p50 ms', 'p99 ms', 'throughput upd/s']];
  for (const key of Object.keys(s.paths)) rows.push([labels[key]!, fmt(s.paths[key]!.p50), fmt(s.paths[key]!.p99), fmt(s.paths[key]!.throughput, 0)]);
  for (const v of variants) {
    const r = s.vsBare[v.key]!;
    rows.push([`ratio ${v.key}/bare`, `${fmt(r.p50, 2)}x`, `${fmt(r.p99, 2)}x`, `${fmt(r.throughput, 2)}x`]);
  }
  if (s.onOff) rows.push([`ratio ${opts.compare.join('+')} on/off`, `${fmt(s.onOff.p50, 2)}x`, `${fmt(s.onOff.p99, 2)}x`, `${fmt(s.onOff.throughput, 2)}x`]);
  out.push(table(rows));
  out.push('(ratio rows: medians of the per-round ratios, so each ratio compares two measurements taken minutes apart at most)');
  out.push('');
  const main = s.vsBare[variants[0]!.key]!;
  const mainTput = s.paths[variants[0]!.key]!.throughput;
  const p50Ok = Number.isFinite(main.p50) ? main.p50 <= GOAL_P50_RATIO : null;
  const tputOk = Number.isFinite(mainTput) ? mainTput >= GOAL_THROUGHPUT : null;
  const onOffOk = s.onOff && Number.isFinite(s.onOff.p50) ? s.onOff.p50 <= GOAL_ON_OFF_RATIO : null;
  const yn = (b: boolean | null) => (b === null ? 'n/a (no data)' : b ? 'yes' : 'no');
  out.push(`goal: full p50 ratio <= ${GOAL_P50_RATIO.toFixed(1)}: ${yn(p50Ok)} (${fmt(main.p50, 2)}x)`);
  out.push(`goal: full throughput >= ${GOAL_THROUGHPUT}/s: ${yn(tputOk)} (${fmt(mainTput, 0)}/s on ${String(machine.cpus)} cores)`);
  if (s.onOff) out.push(`goal: ${opts.compare.join('+')} on within ${GOAL_ON_OFF_RATIO}x of off at p50: ${yn(onOffOk)} (${fmt(s.onOff.p50, 2)}x)`);
  out.push('');
  out.push('per round:');
  const detail: string[][] = [['round', 'path', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'upd/s', 'load p50', 'load p99', 'errors', 'CPU ms/upd bench|api|pg|temporal = total']];
  for (const r of rounds) {
    for (const [key, { latency: l, throughput: t }] of Object.entries(r.paths)) {
      const c = t.cpuMsPerUpdate;
      detail.push([
        String(r.round),
        key,
        fmt(l.latencyMs.p50),
        fmt(l.latencyMs.p90),
        fmt(l.latencyMs.p99),
        fmt(l.latencyMs.max),
        fmt(t.throughput, 0),
        fmt(t.latencyMs.p50),
        fmt(t.latencyMs.p99),
        `${l.errors + t.errors}`,
        `${[c.bench, c.api, c.postgres, c.temporal].map((v) => fmt(v, 1)).join('|')} = ${fmt(c.total, 1)}`,
      ]);
    }
  }
  out.push(table(detail));
  out.push('(p50..max: latency phase, 1 user; upd/s, load p50/p99, CPU: throughput phase. CPU columns: this process (load generator; also the bare worker), the tourhub dev process of that path (API + tour worker), its child processes (Postgres; the idle esbuild service of tsx), the Temporal dev server)');
  const problems: string[] = [];
  for (const r of rounds) {
    for (const [key, phases] of Object.entries(r.paths)) {
      for (const ph of [phases.latency, phases.throughput]) {
        const where = `round ${r.round} ${key} ${ph.phase}`;
        if (ph.failed) problems.push(`${where}: FAILED: ${ph.failed}`);
        if (ph.errors) problems.push(`${where}: ${ph.errors} of ${ph.attempted} updates failed, e.g. ${ph.errorSamples.join(' / ')}`);
        for (const w of ph.warnings) problems.push(`${where}: ${w}`);
      }
    }
  }
  if (problems.length) {
    out.push('');
    out.push('errors and warnings (failed updates are excluded from latency and throughput):');
    for (const p of problems) out.push(`  ${p}`);
  } else {
    out.push('every request answered 200 / every update succeeded');
  }
  out.push('');
  out.push(machineLine(machine));
  return { text: out.join('\n'), summary: s, goals: { p50RatioWithin2x: p50Ok, throughputAtLeast100: tputOk, ...(s.onOff ? { onWithin1_2xOfOff: onOffOk } : {}) } };
}

// ---------------------------------------------------------------------------------------------
// Main

runBench<Options>({
  usage: USAGE,
  parse: parseOptions,
  onFirstSignal: 'stopping after the requests in flight',
  run: async (opts, cleanups, startedAt) => {
    const config = loadConfig();
    const jwtDefaults = loadConfig({});

    const { dataDir, apiPort, pgPort, binary, address, server } = await startPrivateTemporal(
      'tourhub-bench-',
      { ...opts, ...(opts.compare.length > 0 ? { namespace: OFF_NAMESPACE } : {}) },
      config.temporal.cliPath,
      cleanups,
    );

    // The stack's worker and our bundle both run webpack; do them side by side.
    log('starting tourhub dev and bundling the bare workflow...');
    const sdkLogger = new DefaultLogger('WARN', (entry) => {
      // Expected: the bare worker has no activities.
      if (!entry.message.startsWith('No activities registered')) log(`temporal sdk ${entry.level}: ${entry.message}`);
    });
    // Signals are ours: the load stops first, then the bare worker, the stack and Temporal, in order.
    Runtime.install({ logger: sdkLogger, shutdownSignals: [] });
    const bundlePromise = bundleWorkflowCode({ workflowsPath: require.resolve('./bare-workflow'), failureConverterPath: FAILURE_CONVERTER_PATH, logger: sdkLogger });
    bundlePromise.catch(() => undefined);
    const t0 = Date.now();
    const variants = variantsOf(opts.compare);
    // One stack per variant, each with its own Postgres, API port and data folder, on the one Temporal
    // server; started one after the other (each bundles the workflows), stopped in reverse.
    const stacks: { variant: Variant; stack: Awaited<ReturnType<typeof startDevStack>>; dataDir: string; pgPort: number }[] = [];
    for (const [i, variant] of variants.entries()) {
      const [ownApi, ownPg] = i === 0 ? [apiPort, pgPort] : ((await freePorts(2)) as [number, number]);
      const ownDir = i === 0 ? dataDir : path.join(dataDir, variant.key);
      fs.mkdirSync(ownDir, { recursive: true, mode: 0o755 });
      const stack = await startDevStack({ dataDir: ownDir, apiPort: ownApi, pgPort: ownPg, temporalAddress: address, passThrough: TUNING_VARIABLES, env: variant.env, isStopping });
      // SIGINT: `tourhub dev` stops its API, worker and Postgres, then exits.
      cleanups.push(`tourhub dev (${variant.key})`, () => stack.process.stop('SIGINT', 60_000));
      stacks.push({ variant, stack, dataDir: ownDir, pgPort: ownPg });
      log(`tourhub dev (${variant.label}) ready after ${((Date.now() - t0) / 1000).toFixed(1)} s at ${stack.apiUrl}`);
    }
    const bundle = await bundlePromise;

    // The bare path encrypts its payloads like the API does (with the first stack's keyring), so the
    // ratio to it measures the tour's own work, not the codec.
    const dataConverter = tourDataConverter(resolveSecretBox(loadConfig({ TOURHUB_DATA_DIR: dataDir }), { create: false }));
    const connection = await Connection.connect({ address });
    cleanups.push('Temporal client', () => connection.close());
    const client = new Client({ connection, namespace: 'default', dataConverter });
    const nativeConnection = await NativeConnection.connect({ address });
    cleanups.push('worker connection', () => nativeConnection.close());
    const worker = await Worker.create({ connection: nativeConnection, namespace: 'default', taskQueue: BARE_TASK_QUEUE, workflowBundle: bundle, dataConverter });
    const running = worker.run();
    cleanups.push('bare worker', async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });

    /** CPU of this process, one stack's process tree (API and worker; Postgres) and the Temporal server. */
    const cpuOf = (stackPid: number | undefined): CpuProbe => ({
      read: () => {
        const u = process.cpuUsage();
        const tourhub = treeCpuMs(stackPid);
        const temporal = treeCpuMs(server.pid);
        return {
          bench: (u.user + u.system) / 1000,
          api: tourhub?.self,
          postgres: tourhub?.descendants,
          temporal: temporal && temporal.self + temporal.descendants,
        };
      },
    });
    const loadBefore = loadAverage();
    const paths: BenchPath[] = [
      ...stacks.map(({ variant, stack, dataDir: dir, pgPort: ownPg }) => {
        const secret = fs.readFileSync(path.join(dir, 'jwt-secret'), 'utf8').trim();
        // Roles come from membership: the bench writes each virtual couple's row into that stack's Postgres.
        const db = createDb(embeddedDatabaseUrl(loadConfig({ EMBEDDED_PG_PORT: String(ownPg) })), { poolMax: 2, applicationName: 'tourhub-bench' });
        cleanups.push(`bench database pool (${variant.key})`, () => db.destroy());
        return fullPath(variant, stack.apiUrl, { secret, issuer: jwtDefaults.jwt.issuer, audience: jwtDefaults.jwt.audience }, cpuOf(stack.process.pid), db);
      }),
      barePath(client, cpuOf(stacks[0]!.stack.process.pid)),
    ];
    const rounds: RoundResult[] = [];
    for (let round = 1; round <= opts.rounds && !isStopping(); round++) {
      const result: RoundResult = { round, paths: {} };
      // With two full variants, every other round runs them in the other order, so neither always runs
      // right after the bare path (or first on a machine that grows busier through the round).
      const full = paths.filter((p) => p.key !== 'bare');
      const order = [...(round % 2 === 0 ? full.reverse() : full), ...paths.filter((p) => p.key === 'bare')];
      for (const p of order) {
        if (isStopping()) break;
        log(`round ${round}/${opts.rounds}: ${p.key} latency (${opts.warmup} + ${opts.latencyUpdates} sequential updates)`);
        const latency = await latencyPhase(p, opts);
        if (isStopping()) break;
        log(`round ${round}/${opts.rounds}: ${p.key} throughput (${opts.concurrency} users, ${opts.throughputUpdates} updates)`);
        const throughput = await throughputPhase(p, opts);
        log(
          `  ${p.key}: p50 ${fmt(latency.latencyMs.p50)} ms, p99 ${fmt(latency.latencyMs.p99)} ms, ${fmt(throughput.throughput, 0)} upd/s` +
            (latency.errors + throughput.errors ? `, ${latency.errors + throughput.errors} errors` : '') +
            (latency.failed || throughput.failed ? `, FAILED: ${latency.failed ?? throughput.failed}` : ''),
        );
        result.paths[p.key] = { latency, throughput };
      }
      if (!isStopping()) rounds.push(result);
    }
    if (isStopping()) {
      log(`interrupted after ${rounds.length} complete round${rounds.length === 1 ? '' : 's'}; no report`);
      return 130;
    }

    const machine = await machineFacts({ loadBefore, binary, temporalMemory: opts.temporalMemory });
    const { text, summary, goals } = report(rounds, variants, machine, opts);
    process.stdout.write(`${text}\n`);

    if (opts.save) saveResults('progress', startedAt, { options: opts, variants, tuning: stacks[0]!.stack.tuning, machine, summary, goals, rounds });
    return 0;
  },
});
