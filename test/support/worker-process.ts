import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../../config';
import { TEST_ENV_KEYS } from './constants';
import { TEST_KEYRING } from './stack';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'tourhub.js');

/** `tourhub worker` as a real child process, so a test can SIGKILL it like a crashed machine. */
export async function spawnWorker(config: Config, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'worker'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      TOURHUB_ENV: 'test',
      LOG_LEVEL: 'info',
      TEMPORAL_ADDRESS: config.temporal.address,
      TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
      TOURHUB_WORKFLOW_BUNDLE: config.temporal.workflowBundle!,
      DATABASE_URL: config.database.url!,
      DATABASE_WORKER_PASSWORD: config.database.workerPassword,
      // Never the developer's .tourhub keyring: a fresh clone has none.
      TOURHUB_SECRET_KEYS: TEST_KEYRING,
      TOURHUB_DATA_DIR: path.join(process.env[TEST_ENV_KEYS.root] ?? '/tmp', 'worker-data'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Its data listeners keep draining the pipes, so a chatty worker never blocks.
  await untilOutput(child, 'worker polling', 60_000);
  return child;
}

/**
 * Waits until a child process prints `marker` (on stdout or stderr); rejects with everything it printed
 * if it exits first or `timeoutMs` passes. Returns a reader of all output so far.
 */
export async function untilOutput(child: ChildProcess, marker: string, timeoutMs: number): Promise<() => string> {
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${marker}" within ${timeoutMs / 1000} s:\n${output}`)), timeoutMs);
    const check = () => {
      if (!output.includes(marker)) return;
      clearTimeout(timer);
      child.removeListener('exit', onExit);
      resolve();
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before "${marker}":\n${output}`));
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', onExit);
  });
  return () => output;
}

export function killed(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
