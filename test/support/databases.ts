import crypto from 'node:crypto';
import { createDb, type Db } from '../../db/knex';
import { migrateLatest } from '../../db/migrate';
import { TEST_ENV_KEYS } from './constants';

/**
 * A database of the test's own on the shared server, for tests that must see or change every row
 * (rolling all migrations back, re-encrypting every integration) without disturbing other suites.
 */
export async function scratchDatabase(opts: { migrate: boolean }): Promise<{ url: string; db: Db; drop(): Promise<void> }> {
  const base = new URL(process.env[TEST_ENV_KEYS.pgUrl]!);
  const name = `scratch_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const adminUrl = new URL(base);
  adminUrl.pathname = '/postgres';
  const admin = createDb(adminUrl.toString(), { poolMax: 1 });
  await admin.raw(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), { poolMax: 3 });
  if (opts.migrate) await migrateLatest(db);
  return {
    url: url.toString(),
    db,
    async drop() {
      await db.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.destroy();
    },
  };
}
