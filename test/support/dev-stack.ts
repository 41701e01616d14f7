import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEST_ENV_KEYS } from './constants';
import { freePort } from './ports';

export interface DevStackPorts {
  api: number;
  pg: number;
  temporal: number;
  ui: number;
}

/**
 * What a test needs to run its own `tourhub dev`: a fresh data folder, free ports for the API, Postgres,
 * Temporal and its UI, and the environment naming them (plus the suite's prebuilt workflow bundle).
 * Nothing of the developer's own setup leaks in: only PATH, HOME and TEMPORAL_CLI_PATH pass through.
 */
export async function privateDevStack(prefix: string): Promise<{ dataDir: string; ports: DevStackPorts; env: NodeJS.ProcessEnv }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dataDir, 0o755); // the embedded Postgres runs as its own user when we are root
  const ports = { api: await freePort(), pg: await freePort(), temporal: await freePort(), ui: await freePort() };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TOURHUB_DATA_DIR: dataDir,
    PORT: String(ports.api),
    EMBEDDED_PG_PORT: String(ports.pg),
    TEMPORAL_DEV_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.ui),
    TOURHUB_WORKFLOW_BUNDLE: process.env[TEST_ENV_KEYS.workflowBundle],
    LOG_LEVEL: 'warn',
    ...(process.env.TEMPORAL_CLI_PATH ? { TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH } : {}),
  };
  return { dataDir, ports, env };
}
