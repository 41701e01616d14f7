import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { APP_ROLE, WORKER_ROLE } from '../config';

const MIGRATION_FILE = /^(\d{14}_[a-z0-9_]+)\.(ts|js)$/;

/**
 * Lists migrations by name without extension, so a database migrated by `tsx` (.ts files) and later by
 * the compiled image (.js files) agrees on what has run.
 */
class FolderMigrationSource implements Knex.MigrationSource<string> {
  constructor(private readonly dir: string) {}

  async getMigrations(): Promise<string[]> {
    const names = new Map<string, string>();
    for (const file of fs.readdirSync(this.dir)) {
      const match = MIGRATION_FILE.exec(file);
      if (match && !file.endsWith('.d.ts')) names.set(match[1]!, file);
    }
    return [...names.keys()].sort();
  }

  getMigrationName(name: string): string {
    return name;
  }

  async getMigration(name: string): Promise<Knex.Migration> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(this.dir, name)) as Knex.Migration;
  }
}

export const migrationsDir = path.resolve(__dirname, '..', 'migrations');

function migratorConfig(): Knex.MigratorConfig {
  return { migrationSource: new FolderMigrationSource(migrationsDir), tableName: 'knex_migrations' };
}

export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migratorConfig())) as [number, string[]];
  return applied;
}

export async function migrateRollbackAll(db: Knex): Promise<string[]> {
  const [, rolledBack] = (await db.migrate.rollback(migratorConfig(), true)) as [number, string[]];
  return rolledBack;
}

/**
 * Applies one pending migration by name, whatever its date: how a test builds the database of a
 * deployment that ran another branch's migrations before this one's were merged.
 */
export async function migrateUp(db: Knex, name: string): Promise<void> {
  await db.migrate.up({ ...migratorConfig(), name });
}

export async function migrationStatus(db: Knex): Promise<{ completed: string[]; pending: string[] }> {
  const [completed, pending] = (await db.migrate.list(migratorConfig())) as [{ name: string }[], string[]];
  return { completed: completed.map((m) => m.name), pending };
}

/**
 * Gives the API's non-owner role a login password. Roles are cluster-wide, so this is a separate step
 * from the migrations (which only create the role if missing) and is safe to repeat.
 */
export async function setAppRolePassword(db: Knex, password: string): Promise<void> {
  if (!password) return;
  await db.raw(`ALTER ROLE ${APP_ROLE} WITH LOGIN PASSWORD ${quoteLiteral(password)}`);
}

/** The same for the worker's least-privileged role (created by its migration). */
export async function setWorkerRolePassword(db: Knex, password: string): Promise<void> {
  if (!password) return;
  await db.raw(`ALTER ROLE ${WORKER_ROLE} WITH LOGIN PASSWORD ${quoteLiteral(password)}`);
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
