/**
 * What the benchmarks share: a private `tourhub dev` on free loopback ports, in its own process group with
 * its output in a log file, plus small helpers (logging, CPU time from /proc, tables). The private Temporal
 * dev server is cli/temporal/dev-server.ts's, started by bench/lib/harness.ts. Used by bench/progress.ts and bench/hub.ts, whose frame (options, signals,
 * cleanups, results) is bench/lib/harness.ts; see bench/README.md.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { envSchema } from '../../config';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** How long `tourhub dev` may take to answer /readyz (first start bundles the workflows). */
export const READY_TIMEOUT_MS = 300_000;

// ---------------------------------------------------------------------------------------------
// Small helpers

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Like sleep, but does not keep the process alive (for races against a deadline). */
export const deadline = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
export const nowNs = () => process.hrtime.bigint();
export const msSince = (start: bigint) => Number(nowNs() - start) / 1e6;

const processStart = Date.now() - process.uptime() * 1000;
export function log(msg: string): void {
  process.stderr.write(`[bench ${((Date.now() - processStart) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);
}

/** Distinct ports that were free a moment ago on loopback. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      const address = server.address();
      if (!address || typeof address !== 'object') throw new Error('could not get a free port');
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

const execFileP = promisify(execFile);
export async function commandOutput(file: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await execFileP(file, args, { timeout: 10_000, cwd: REPO_ROOT });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system, ms) of a process (`self`) and of all its descendants (`descendants`), from
 * /proc (Linux only; undefined elsewhere). Includes descendants that already exited and were reaped.
 */
export function treeCpuMs(rootPid: number | undefined): { self: number; descendants: number } | undefined {
  if (rootPid === undefined || process.platform !== 'linux') return undefined;
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(rest[1]));
      // utime + stime, plus cutime + cstime: the CPU of children it has already reaped (Postgres backends
      // that ended), so the sum over the tree counts processes that came and went during a phase.
      cpu.set(Number(name), ((Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14])) * 1000) / CLOCK_TICKS);
    } catch {
      // exited while we looked
    }
  }
  const self = cpu.get(rootPid);
  if (self === undefined) return undefined;
  let descendants = 0;
  for (const [pid, ms] of cpu) {
    if (pid === rootPid) continue;
    for (let p = parent.get(pid), depth = 0; p !== undefined && p > 1 && depth < 64; p = parent.get(p), depth++) {
      if (p === rootPid) {
        descendants += ms;
        break;
      }
    }
  }
  return { self, descendants };
}
let CLOCK_TICKS = 100;
/** Reads the kernel's clock ticks per second (for treeCpuMs); 100 if getconf is missing. */
export async function initClockTicks(): Promise<void> {
  const clk = await commandOutput('getconf', ['CLK_TCK']);
  if (clk && Number(clk) > 0) CLOCK_TICKS = Number(clk);
}

// ---------------------------------------------------------------------------------------------
// The private stack: `tourhub dev`

/**
 * A server we spawn in its own process group, so a Ctrl-C in the terminal reaches only this process:
 * we stop the load first, then `tourhub dev` (while Temporal still answers, or its worker's shutdown
 * would wait on a dead server), then Temporal. Output goes to a log file in the data folder.
 */
export interface Managed {
  pid: number | undefined;
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  output(): string;
  /** `signal`, then after `graceMs` SIGTERM, then SIGKILL to the whole group. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<void>;
}

export function spawnManaged(name: string, file: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string; logFile: string }): Managed {
  const child: ChildProcess = spawn(file, args, { cwd: opts.cwd ?? REPO_ROOT, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const logFile = fs.createWriteStream(opts.logFile);
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
    logFile.write(chunk);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (err) => {
      output += `\n${err.message}`;
      exited = { code: null, signal: null };
      resolve();
    });
  });
  // If we die without stop(), SIGTERM still lets each server shut down cleanly on its own.
  const termOnExit = () => {
    if (!exited) child.kill('SIGTERM');
  };
  process.on('exit', termOnExit);
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  return {
    pid: child.pid,
    exited: () => exited,
    output: () => output,
    async stop(signal, graceMs) {
      if (!exited) {
        child.kill(signal);
        if (!(await Promise.race([exit.then(() => true), deadline(graceMs).then(() => false)]))) {
          log(`${name} did not stop within ${graceMs / 1000} s after ${signal}; sending SIGTERM`);
          child.kill('SIGTERM');
          if (!(await Promise.race([exit.then(() => true), deadline(10_000).then(() => false)]))) {
            log(`${name} still running; SIGKILL to its process group`);
            killGroup('SIGKILL');
            await exit;
          }
        }
      }
      process.removeListener('exit', termOnExit);
      await new Promise<void>((r) => logFile.end(() => r()));
    },
  };
}

export interface DevStack {
  apiUrl: string;
  /** The tuning variables (`passThrough`) the stack inherited from our environment. */
  tuning: Record<string, string>;
  process: Managed;
}

export interface DevStackOptions {
  dataDir: string;
  apiPort: number;
  pgPort: number;
  temporalAddress: string;
  /** Extra arguments to `tourhub dev` (bench/hub.ts passes --no-worker and runs its own). */
  args?: string[];
  /** Configuration variables from our environment passed on (tunings); all others are ours to set. */
  passThrough: readonly string[];
  /** Set after everything else: the benchmark's own configuration of the stack. */
  env?: Record<string, string>;
  isStopping?: () => boolean;
}

function stackEnv(o: DevStackOptions): NodeJS.ProcessEnv {
  const configVariables = new Set(Object.keys(envSchema.shape));
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!configVariables.has(key) || o.passThrough.includes(key)) env[key] = value;
  }
  return {
    ...env,
    TOURHUB_ENV: 'development',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(o.apiPort),
    EMBEDDED_PG_PORT: String(o.pgPort),
    TOURHUB_DATA_DIR: o.dataDir,
    // Set, so `tourhub dev` uses our server rather than starting its own on the default port.
    TEMPORAL_ADDRESS: o.temporalAddress,
    ...o.env,
  };
}

/** `node bin/tourhub.js dev` on our ports and data folder, ready once GET /readyz answers 200. */
export async function startDevStack(o: DevStackOptions): Promise<DevStack> {
  const env = stackEnv(o);
  const isStopping = o.isStopping ?? (() => false);
  const stack = spawnManaged('tourhub dev', process.execPath, [path.join(REPO_ROOT, 'bin', 'tourhub.js'), 'dev', ...(o.args ?? [])], {
    env,
    logFile: path.join(o.dataDir, 'tourhub-dev.log'),
  });
  const apiUrl = `http://127.0.0.1:${o.apiPort}`;
  const readyBy = Date.now() + READY_TIMEOUT_MS;
  const fail = async (why: string) => {
    await stack.stop('SIGINT', 30_000);
    return new Error(`tourhub dev ${why}. Last output:\n${stack.output().slice(-4000)}`);
  };
  for (;;) {
    if (isStopping()) throw await fail('was interrupted while starting');
    const exited = stack.exited();
    if (exited) throw await fail(`exited (${exited.signal ?? `code ${exited.code}`}) before it was ready`);
    try {
      const res = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(3000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > readyBy) throw await fail(`was not ready within ${READY_TIMEOUT_MS / 1000} s`);
    await sleep(500);
  }
  const tuning: Record<string, string> = {};
  for (const key of o.passThrough) if (env[key] !== undefined) tuning[key] = env[key]!;
  return { apiUrl, tuning, process: stack };
}

// ---------------------------------------------------------------------------------------------
// Report helpers

export const fmt = (n: number | undefined, digits = 1) => (n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits));

/** A Markdown table, first column left-aligned, the others right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`;
  const sep = `|${widths.map((w, c) => (c === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join('\n');
}
