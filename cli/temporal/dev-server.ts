import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TOUR_SEARCH_ATTRIBUTES, type TourSearchAttribute } from '../../workflows/search-attributes';
import { describeFailure, noop, run, sleep, tail, tcpAccepts, type Log } from './process';

/**
 * `temporal server start-dev` as `tourhub dev`, the test suites and the benchmarks run it: loopback only,
 * the update APIs on, SQLite in WAL mode when it keeps a file, and the tour search attributes
 * (TOUR_SEARCH_ATTRIBUTES, the list the workflow sets) registered before anyone is told it is ready.
 */



export interface StartDevServerOptions {
  binary: string;
  port: number;
  /** Web UI port. Default: `port + 1000` (the CLI's own default). Ignored when headless. */
  uiPort?: number;
  headless?: boolean;
  /**
   * Where the Web UI decodes payloads (`--ui-codec-endpoint`): our API's codec endpoint, since every
   * payload is encrypted. Ignored when headless.
   */
  codecEndpoint?: string;
  /** SQLite file for state that survives restarts; omitted means in-memory. */
  dbFile?: string;
  /** An extra namespace to create (`default` always exists). Search attributes are checked in this namespace. */
  namespace?: string;
  log?: Log;
  /** Environment for the server and the probes. Default `process.env` minus TEMPORAL_* connection variables. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the server to be ready. Default 60 s. */
  readyTimeoutMs?: number;
  /**
   * Run the server in its own process group, so a Ctrl-C in the terminal reaches only this process, which
   * can then stop what depends on the server first (the benchmarks do: load, then the stack, then Temporal).
   */
  detached?: boolean;
  /** Also write everything the server prints to this file (the benchmarks keep it beside their data). */
  logFile?: string;
  /** Checked while waiting for the server: true stops it and rejects (a benchmark interrupted while starting). */
  isCancelled?: () => boolean;
  /** More `key=value` dynamic config after DEV_SERVER_DYNAMIC_CONFIG (tests: one task queue partition). */
  extraDynamicConfig?: readonly string[];
}

export interface DevServer {
  /** host:port of the frontend gRPC service */
  address: string;
  /** The temporal binary that runs it (for `temporal operator ...` calls against it). */
  binary: string;
  uiUrl?: string;
  /** The server's process id (for diagnostics, and the benchmarks' CPU accounting). */
  pid: number;
  /** The last 20 kB of the server's output. */
  output(): string;
  /** SIGTERM, then SIGKILL (to its process group when detached) if it has not exited after `graceMs` (default 10 s). */
  stop(graceMs?: number): Promise<void>;
}

export const DEV_SERVER_DYNAMIC_CONFIG = [
  'frontend.enableExecuteMultiOperation=true',
  'frontend.enableUpdateWorkflowExecution=true',
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
  // Task queue fairness: each integration's provider calls get their own virtual queue and rate
  // (workflows/deliveries.ts, worker.ts). Server 1.32 (CLI 1.9.1) has both switches; its backlog
  // migration is built in (`matching.enableMigration` was removed), so that key is not passed here.
  'matching.useNewMatcher=true',
  'matching.enableFairness=true',
] as const;

/** The `temporal server start-dev` arguments startDevServer uses (exported for tests and the docs). */
export function devServerArgs(
  opts: Pick<StartDevServerOptions, 'port' | 'uiPort' | 'headless' | 'dbFile' | 'namespace' | 'extraDynamicConfig' | 'codecEndpoint'>,
  withSearchAttributes = true,
): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port)];
  if (opts.headless) args.push('--headless');
  else {
    if (opts.uiPort !== undefined) args.push('--ui-port', String(opts.uiPort));
    if (opts.codecEndpoint) args.push('--ui-codec-endpoint', opts.codecEndpoint);
  }
  if (opts.dbFile) {
    args.push('--db-filename', path.resolve(opts.dbFile), '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL');
  }
  if (opts.namespace && opts.namespace !== 'default') args.push('--namespace', opts.namespace);
  args.push('--log-level', 'warn');
  for (const value of [...DEV_SERVER_DYNAMIC_CONFIG, ...(opts.extraDynamicConfig ?? [])]) args.push('--dynamic-config-value', value);
  if (withSearchAttributes) {
    for (const sa of TOUR_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${sa.name}=${sa.type}`);
  }
  return args;
}

/** process.env without the variables the temporal CLI reads as connection settings, so probes hit exactly our server. */
function probeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith('TEMPORAL_')) out[k] = v;
  return out;
}

/** Names and types of the search attributes visible in `namespace`, or undefined while the server is not answering. */
async function listSearchAttributes(binary: string, address: string, namespace: string, env: NodeJS.ProcessEnv): Promise<Map<string, string> | undefined> {
  const r = await run(binary, ['operator', 'search-attribute', 'list', '--address', address, '--namespace', namespace, '--output', 'json', '--command-timeout', '5s'], {
    env,
    timeoutMs: 10_000,
  });
  if (r.error || r.code !== 0) return undefined;
  return parseSearchAttributeList(r.stdout);
}

/**
 * Parses `temporal operator search-attribute list -o json`. The CLI prints the
 * ListSearchAttributesResponse: `{"systemAttributes": {...}, "customAttributes": {"Name": "INDEXED_VALUE_TYPE_KEYWORD"}}`;
 * some versions print a list of `{name, type}` rows instead, which is accepted too.
 */
export function parseSearchAttributeList(stdout: string): Map<string, string> | undefined {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  const out = new Map<string, string>();
  const norm = (t: unknown) => String(t).replace(/^INDEXED_VALUE_TYPE_/, '').replace(/_/g, '').toLowerCase();
  if (Array.isArray(data)) {
    for (const row of data as { name?: unknown; type?: unknown }[]) if (row && typeof row.name === 'string') out.set(row.name, norm(row.type));
    return out;
  }
  if (data && typeof data === 'object') {
    for (const key of ['customAttributes', 'systemAttributes', 'storageSchema']) {
      const group = (data as Record<string, unknown>)[key];
      if (group && typeof group === 'object') for (const [name, type] of Object.entries(group as Record<string, unknown>)) out.set(name, norm(type));
    }
  }
  return out;
}

function missingAttributes(seen: Map<string, string>): TourSearchAttribute[] {
  return TOUR_SEARCH_ATTRIBUTES.filter((sa) => seen.get(sa.name) !== sa.type.toLowerCase());
}

/**
 * Spawns `temporal server start-dev` on 127.0.0.1 and resolves once the frontend accepts connections and the
 * tour search attributes are visible. Rejects (and stops the server) after `readyTimeoutMs` with the tail of
 * the server's output, or as soon as `isCancelled()` says so. The process is also killed if this Node process
 * exits without calling stop().
 */
export async function startDevServer(opts: StartDevServerOptions): Promise<DevServer> {
  const log = opts.log ?? noop;
  const env = probeEnv(opts.env ?? process.env);
  const host = '127.0.0.1';
  const address = `${host}:${opts.port}`;
  const namespace = opts.namespace ?? 'default';
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const uiPort = opts.headless ? undefined : (opts.uiPort ?? opts.port + 1000);
  const cancelled = opts.isCancelled ?? (() => false);

  if (await tcpAccepts(host, opts.port, 500)) {
    throw new Error(`Cannot start the Temporal dev server: something already listens on ${address}. Stop it, or choose another port.`);
  }
  if (uiPort !== undefined && (await tcpAccepts(host, uiPort, 500))) {
    throw new Error(`Cannot start the Temporal dev server: something already listens on ${host}:${uiPort} (the Web UI port). Stop it, choose another UI port, or run headless.`);
  }
  if (opts.dbFile) fs.mkdirSync(path.dirname(path.resolve(opts.dbFile)), { recursive: true });
  const logFile = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : undefined;

  const deadline = Date.now() + readyTimeoutMs;
  let child: ChildProcess;
  let output = '';
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let exitPromise: Promise<void>;
  const killOnExit = () => {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  };

  const spawnServer = (withSearchAttributes: boolean) => {
    const args = devServerArgs({ ...opts, uiPort }, withSearchAttributes);
    log(`starting ${opts.binary} ${args.join(' ')}`);
    output = '';
    exited = undefined;
    child = spawn(opts.binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, detached: opts.detached === true });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
      logFile?.write(chunk);
    };
    child.stderr?.on('data', keep);
    child.stdout?.on('data', keep);
    exitPromise = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exited = { code, signal };
        process.removeListener('exit', killOnExit);
        resolve();
      });
      child.once('error', (err) => {
        output += `\n${err.message}`;
        exited = { code: null, signal: null };
        process.removeListener('exit', killOnExit);
        resolve();
      });
    });
    process.on('exit', killOnExit);
  };

  const killHard = () => {
    try {
      // A detached server leads its own process group: take anything it started with it.
      if (opts.detached && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      // already gone
    }
  };

  const stop = async (graceMs = 10_000) => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
      if ((await Promise.race([exitPromise.then(() => 'exited' as const), timer])) === 'timeout' && !exited) {
        log(`the Temporal dev server did not stop within ${graceMs / 1000} s; killing it`);
        killHard();
        await exitPromise;
      }
    }
    if (logFile && !logFile.closed) await new Promise<void>((r) => logFile.end(() => r()));
  };

  const failure = (why: string) =>
    new Error(
      `The Temporal dev server (${opts.binary} server start-dev on ${address}) ${why}.` +
        (output.trim() ? `\nLast lines of its output:\n${tail(output, 25)}` : ''),
    );
  const exitedWhy = (e: { code: number | null; signal: NodeJS.Signals | null }) => `exited (${e.signal ? `signal ${e.signal}` : `code ${e.code}`})`;

  spawnServer(true);
  let registeredByFlag = true;
  try {
    // 1. The frontend port accepts connections.
    while (!(await tcpAccepts(host, opts.port))) {
      if (exited) {
        // An older CLI refusing to re-register attributes already in the db file: start again without the flags.
        if (registeredByFlag && /search.?attribute/i.test(output) && opts.dbFile) {
          log('the dev server refused the --search-attribute flags for the existing db file; starting without them and registering missing ones');
          registeredByFlag = false;
          spawnServer(false);
          continue;
        }
        throw failure(`${exitedWhy(exited)} before accepting connections`);
      }
      if (cancelled()) throw failure('was interrupted while starting');
      if (Date.now() > deadline) throw failure(`did not accept connections within ${readyTimeoutMs / 1000} s`);
      await sleep(200);
    }
    // 2. The search attributes are visible through the API (this also proves the gRPC service answers).
    let created = false;
    for (;;) {
      if (exited) throw failure(`${exitedWhy(exited)} while starting`);
      if (cancelled()) throw failure('was interrupted while starting');
      const seen = await listSearchAttributes(opts.binary, address, namespace, env);
      if (seen) {
        const missing = missingAttributes(seen);
        if (missing.length === 0) break;
        if (!created) {
          created = true;
          for (const sa of missing) {
            const r = await run(
              opts.binary,
              ['operator', 'search-attribute', 'create', '--address', address, '--namespace', namespace, '--name', sa.name, '--type', sa.type, '--command-timeout', '10s'],
              { env, timeoutMs: 15_000 },
            );
            if (r.error || r.code !== 0) log(describeFailure(`registering search attribute ${sa.name}`, r));
          }
        }
      }
      if (Date.now() > deadline) {
        throw failure(
          seen
            ? `did not show the search attributes ${missingAttributes(seen).map((s) => `${s.name}=${s.type}`).join(', ')} within ${readyTimeoutMs / 1000} s`
            : `did not answer \`temporal operator search-attribute list\` within ${readyTimeoutMs / 1000} s`,
        );
      }
      await sleep(250);
    }
    // 3. The Web UI, so the printed URL works.
    if (uiPort !== undefined) {
      while (!(await tcpAccepts(host, uiPort))) {
        if (exited) throw failure('exited while starting the Web UI');
        if (cancelled()) throw failure('was interrupted while starting');
        if (Date.now() > deadline) throw failure(`did not open the Web UI on port ${uiPort} within ${readyTimeoutMs / 1000} s`);
        await sleep(200);
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }

  const uiUrl = uiPort !== undefined ? `http://${host}:${uiPort}` : undefined;
  log(`Temporal dev server ready on ${address}${uiUrl ? `, Web UI ${uiUrl}` : ''}`);
  return { address, binary: opts.binary, uiUrl, pid: child!.pid ?? -1, output: () => output, stop };
}
