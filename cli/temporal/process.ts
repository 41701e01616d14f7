import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * The small process and file helpers the Temporal tooling shares (find, install, dev server).
 *
 * Only Node built-ins: finding and installing the CLI runs before anything else is known to work
 * (CI bootstrap, the first `npm start`).
 */

export type Log = (msg: string) => void;

export const noop: Log = () => undefined;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all (ENOENT, EACCES) or timed out. */
  error?: Error & { code?: string | number };
}

/** Runs a program to completion; never rejects, so callers can report what failed and go on to the next way. */
export function run(file: string, args: string[], opts: { env: NodeJS.ProcessEnv; timeoutMs: number; cwd?: string }): Promise<RunResult> {
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

export function tail(text: string, lines = 15): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

export function describeFailure(what: string, r: RunResult): string {
  if (r.error) return `${what}: ${r.error.code === 'ENOENT' ? 'command not found' : r.error.message}`;
  const output = tail(`${r.stderr}\n${r.stdout}`.trim(), 8);
  const status = r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;
  return `${what} failed (${status})${output ? `:\n      ${output.split('\n').join('\n      ')}` : ''}`;
}

export function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function pathEntries(env: NodeJS.ProcessEnv): string[] {
  const value = env.PATH ?? env.Path ?? '';
  return value.split(path.delimiter).filter((p) => p !== '');
}

/** Every executable called `name` on the PATH of `env`, in PATH order, without duplicates. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv): string[] {
  const found: string[] = [];
  for (const dir of pathEntries(env)) {
    const candidate = path.resolve(dir, name);
    if (isExecutableFile(candidate) && !found.includes(candidate)) found.push(candidate);
  }
  return found;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function tcpAccepts(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
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
