import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findTemporalCli, startDevServer } from '../../cli/temporal';
import { startEmbeddedPostgres } from '../../db/embedded';
import { createDb } from '../../db/knex';
import { migrateLatest, setAppRolePassword, setWorkerRolePassword } from '../../db/migrate';
import { bundleTourWorkflows } from '../../worker';
import { freePort } from './ports';
import { TEST_APP_PASSWORD, TEST_ENV_KEYS, TEST_WORKER_PASSWORD } from './constants';

/**
 * Starts what every suite shares, once: an embedded Postgres with the schema migrated, a Temporal dev
 * server (in memory, headless, with our search attributes) and the workflow bundle. Suites find them
 * through environment variables; each test makes its own organisations, so none depends on another.
 */
export default async function globalSetup(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tourhub-test-'));
  // As root, Postgres runs as a separate "postgres" user, which must be able to enter this folder.
  fs.chmodSync(root, 0o755);
  const repo = path.resolve(__dirname, '..', '..');
  const [pgPort, temporalPort] = await Promise.all([freePort(), freePort()]);

  const postgres = (async () => {
    const pg = await startEmbeddedPostgres({
      dir: path.join(root, 'postgres'),
      port: pgPort,
      user: 'tourhub',
      password: 'tourhub',
      database: 'tourhub_test',
      persistent: false,
    });
    const db = createDb(pg.url, { poolMax: 2 });
    try {
      await migrateLatest(db);
      await setAppRolePassword(db, TEST_APP_PASSWORD);
      await setWorkerRolePassword(db, TEST_WORKER_PASSWORD);
    } finally {
      await db.destroy();
    }
    return pg;
  })();

  const temporal = (async () => {
    const binary = await findTemporalCli({ cliPath: process.env.TEMPORAL_CLI_PATH, toolsDir: path.join(repo, '.tools') });
    return startDevServer({ binary, port: temporalPort, headless: true });
  })();

  const bundle = (async () => {
    // As the worker bundles it (with the failure converter that encrypts failure messages).
    const code = await bundleTourWorkflows({ info: () => undefined, warn: () => undefined, error: console.error, debug: () => undefined, trace: () => undefined, log: () => undefined });
    const file = path.join(root, 'workflow-bundle.js');
    fs.writeFileSync(file, code);
    return file;
  })();

  const [pg, server, bundlePath] = await Promise.all([postgres, temporal, bundle]);
  process.env[TEST_ENV_KEYS.pgUrl] = pg.url;
  process.env[TEST_ENV_KEYS.temporalAddress] = server.address;
  process.env[TEST_ENV_KEYS.temporalBinary] = (server as { binary?: string }).binary ?? '';
  process.env[TEST_ENV_KEYS.workflowBundle] = bundlePath;
  process.env[TEST_ENV_KEYS.root] = root;
  (globalThis as Record<string, unknown>).__tourhubTest = { pg, server, root };
}
