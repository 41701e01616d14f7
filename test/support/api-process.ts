import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../../config';
import { TEST_APP_PASSWORD, TEST_ENV_KEYS, TEST_JWT_SECRET } from './constants';
import { freePort } from './ports';
import { TEST_KEYRING } from './stack';
import { untilOutput } from './worker-process';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'tourhub.js');

/**
 * `tourhub api` as a real second process over the suite's Postgres and Temporal: what another machine
 * behind the load balancer would be. Its own pools, its own LISTEN connection, its own memory.
 */
export async function spawnApi(config: Config, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'api'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      TOURHUB_ENV: 'test',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: config.database.url!,
      DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
      TEMPORAL_ADDRESS: config.temporal.address,
      TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
      JWT_SECRET: TEST_JWT_SECRET,
      TOURHUB_SECRET_KEYS: TEST_KEYRING,
      TOURHUB_DATA_DIR: path.join(process.env[TEST_ENV_KEYS.root] ?? '/tmp', 'api-data'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await untilOutput(child, 'API listening', 60_000);
  return { child, url: `http://127.0.0.1:${port}` };
}
