import crypto from 'node:crypto';
import type { Db } from '../../db/knex';
import { migrateLatest, migrateRollbackAll, migrationStatus } from '../../db/migrate';
import { scratchDatabase } from '../support/databases';

let scratch: Awaited<ReturnType<typeof scratchDatabase>>;
let db: Db;

beforeAll(async () => {
  scratch = await scratchDatabase({ migrate: false });
  db = scratch.db;
});

afterAll(async () => {
  await scratch.drop();
});

async function schema(): Promise<{ tables: string[]; types: string[]; policies: number; indexes: number }> {
  const tables = await db.raw(`select tablename from pg_tables where schemaname = 'public' and tablename not like 'knex_%' order by 1`);
  const types = await db.raw(`select typname from pg_type t join pg_namespace n on n.oid = t.typnamespace where nspname = 'public' and typtype = 'e' order by 1`);
  const policies = await db.raw(`select count(*)::int as n from pg_policies where schemaname = 'public'`);
  const indexes = await db.raw(`select count(*)::int as n from pg_indexes where schemaname = 'public' and tablename not like 'knex_%'`);
  return {
    tables: tables.rows.map((r: { tablename: string }) => r.tablename),
    types: types.rows.map((r: { typname: string }) => r.typname),
    policies: policies.rows[0].n,
    indexes: indexes.rows[0].n,
  };
}

describe('migrations', () => {
  it('migrate up, all the way down, and up again to the same schema', async () => {
    const applied = await migrateLatest(db);
    expect(applied.length).toBeGreaterThanOrEqual(12);
    const first = await schema();
    expect(first.tables).toEqual(
      expect.arrayContaining([
        'organizations', 'organization_members', 'tour_definitions', 'tour_steps', 'user_tour_progress',
        'tour_analytics_events', 'tour_ab_tests', 'tour_ab_assignments', 'organization_integrations',
        'integration_logs', 'webhook_events', 'sync_timestamps', 'integration_deliveries', 'oauth_states',
      ]),
    );
    expect(first.types).toEqual(
      expect.arrayContaining([
        'tour_type_enum', 'audience_enum', 'phase_enum', 'position_enum', 'progress_status_enum', 'device_enum',
        'event_type_enum', 'ab_test_status_enum', 'integration_type_enum', 'webhook_status_enum', 'sync_status_enum',
        'delivery_status_enum',
      ]),
    );
    const rlsOff = await db.raw(`select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where nspname = 'public' and relkind = 'r' and relname not like 'knex_%' and not relrowsecurity`);
    expect(rlsOff.rows).toEqual([]);

    const rolledBack = await migrateRollbackAll(db);
    expect(rolledBack).toHaveLength(applied.length);
    expect(await schema()).toEqual({ tables: [], types: [], policies: 0, indexes: 0 });
    const functions = await db.raw(`select proname from pg_proc where proname like 'tourhub_%'`);
    expect(functions.rows).toEqual([]);

    await migrateLatest(db);
    expect(await schema()).toEqual(first);
    expect((await migrationStatus(db)).pending).toEqual([]);
  });

  it('enforces the seed\'s checks: ratings 1..5 and one progress row per user, organisation and tour', async () => {
    await migrateLatest(db);
    const [org] = await db('organizations').insert({ slug: `m-${crypto.randomUUID().slice(0, 6)}`, name: 'M' }).returning('id');
    const [tour] = await db('tour_definitions').insert({ organization_id: org.id, tour_key: 'k', name: 'T' }).returning('id');
    const row = { user_id: crypto.randomUUID(), organization_id: org.id, tour_id: tour.id, workflow_id: 'w' };
    await db('user_tour_progress').insert(row);
    await expect(db('user_tour_progress').insert(row)).rejects.toThrow(/duplicate key/);
    await expect(db('user_tour_progress').insert({ ...row, user_id: crypto.randomUUID(), user_rating: 6 })).rejects.toThrow(/check constraint/);
  });
});
