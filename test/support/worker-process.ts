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
      // Never the developer's .tourhub keyring: a fresh clone has none.
      TOURHUB_SECRET_KEYS: TEST_KEYRING,
      TOURHUB_DATA_DIR: path.join(process.env[TEST_ENV_KEYS.root] ?? '/tmp', 'worker-data'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('worker polling')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before polling:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  // Keep draining its output so a chatty worker never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

export function killed(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
