import fs from 'node:fs';
import path from 'node:path';
import { EMBEDDED_PG, ownerDatabaseUrl, type Config } from '../../config';
import { startEmbeddedPostgres } from '../../db/embedded';
import { createDb } from '../../db/knex';
import { DEMO, seedDemo } from '../../db/seeds/demo';
import { findTemporalCli, startDevServer } from '../temporal';
import { createLogger, loadConfigOrExit, onShutdown, resolveJwtSecret, resolveSecretBox } from '../runtime';
import { migrate, startApi, startWorker } from '../services';
import { repoRoot } from './temporal-path';

const USAGE = `Usage: tourhub dev [--no-worker]

Starts everything on this machine with no setup: Postgres (embedded in the data folder unless
DATABASE_URL is set), the Temporal dev server with its Web UI (unless TEMPORAL_ADDRESS is set),
migrations, the demo organisation, the worker and the API. Ctrl-C stops them all; data persists.
  --no-worker   do not run a worker in this process (run "tourhub worker" yourself)`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = argv.filter((a) => a !== '--no-worker');
  if (unknown.length) {
    process.stderr.write(`tourhub dev: unknown argument ${unknown[0]}\n${USAGE}\n`);
    return 2;
  }
  let config = loadConfigOrExit();
  const logger = createLogger(config, 'tourhub');
  const shutdown = onShutdown(logger);
  fs.mkdirSync(config.dataDir, { recursive: true });
  const jwtSecret = resolveJwtSecret(config, { create: true });
  const box = resolveSecretBox(config, { create: true });

  try {
    if (!config.database.url) {
      const pg = await startEmbeddedPostgres({
        dir: path.join(config.dataDir, 'postgres'),
        port: config.database.embeddedPort,
        ...EMBEDDED_PG,
        persistent: true,
        log: (line) => logger.debug({ component: 'postgres' }, line),
      });
      shutdown.add('postgres', () => pg.stop());
      logger.info({ port: pg.port }, 'embedded Postgres started');
    }
    await migrate(config, logger);
    const owner = createDb(ownerDatabaseUrl(config), { poolMax: 1 });
    await seedDemo(owner).finally(() => owner.destroy());

    let uiUrl: string | undefined;
    if (!config.temporal.external) {
      const binary = await findTemporalCli({
        cliPath: config.temporal.cliPath,
        toolsDir: path.join(repoRoot(), '.tools'),
        log: (m) => logger.info({ component: 'temporal' }, m),
      });
      const port = Number(config.temporal.address.split(':')[1]);
      const server = await startDevServer({
        binary,
        port,
        uiPort: config.temporal.uiPort,
        dbFile: path.join(config.dataDir, 'temporal.db'),
        namespace: config.temporal.namespace,
        // localhost, not 127.0.0.1: the UI's origin (TEMPORAL_UI_ORIGIN) and the codec session's cookie name that host.
        codecEndpoint: codecEndpoint(config),
        log: (m) => logger.debug({ component: 'temporal' }, m),
      });
      shutdown.add('temporal', () => server.stop());
      uiUrl = `http://localhost:${config.temporal.uiPort}`;
      config = { ...config, temporal: { ...config.temporal, address: server.address } };
    }

    if (!argv.includes('--no-worker')) {
      const worker = await startWorker(config, logger, box);
      shutdown.add('worker', () => worker.stop());
    }
    const api = await startApi(config, logger, jwtSecret, box);
    shutdown.add('api', () => api.stop());
    printBanner(config, api.url, uiUrl);
    return await new Promise<number>(() => undefined); // runs until a signal
  } catch (err) {
    logger.error({ err }, 'tourhub dev could not start');
    await shutdown.run();
    return 1;
  }
}

/** The API's codec endpoint as the browser reaches it (PUBLIC_URL, by default http://localhost:$PORT). */
function codecEndpoint(config: Config): string {
  return `${config.publicUrl}/codec`;
}

function printBanner(config: Config, apiUrl: string, uiUrl: string | undefined): void {
  const lines = [
    '',
    'tourhub is running',
    `  API           ${apiUrl}   (health: ${apiUrl}/readyz)`,
    `  API reference ${apiUrl}/api/docs   (OpenAPI: ${apiUrl}/api/openapi.json)`,
    `  Temporal UI   ${uiUrl ?? `(external Temporal at ${config.temporal.address})`}`,
    ...(uiUrl
      ? [
          `  Payloads are encrypted; to read them in the UI, start a codec session at ${codecEndpoint(config)}/session`,
          "  with an admin token, then turn on the UI's codec setting 'Include cross-origin credentials'.",
        ]
      : []),
    `  Data folder   ${config.database.url ? '(external DATABASE_URL)' : config.dataDir}`,
    '',
    '  Mint a token for the demo couple:',
    `    npx tourhub token --org ${DEMO.slug} --user ${DEMO.coupleUserId}`,
    '  ...or for the demo planner (admin):',
    `    npx tourhub token --org ${DEMO.slug} --user ${DEMO.adminUserId} --role admin`,
    '',
    '  Ctrl-C stops everything; data is kept for the next start.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
