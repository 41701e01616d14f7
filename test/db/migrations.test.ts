import crypto from 'node:crypto';
import type { Db } from '../../db/knex';
import { migrateLatest, migrateRollbackAll, migrateUp, migrationStatus } from '../../db/migrate';
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

  it('upgrades a database that ran main\'s migrations before issue 11\'s, some dated earlier, to the same schema', async () => {
    // Issue 11's branch dated four migrations before issue 12's and 10's, which main ran first: a deployment
    // meets them as pending migrations older than its newest. Its two later ones come after main's.
    const issue11 = /^20261128110[0-4]00_|^2026120113[0-9]{4}_/;
    const upgraded = await scratchDatabase({ migrate: false });
    try {
      const all = (await migrationStatus(upgraded.db)).pending;
      // What main had run when issue 11 landed: everything not issue 11's, dated before its later two
      // (later migrations, such as the worker role's, came after it and may use its tables).
      for (const name of all.filter((n) => !issue11.test(n) && n < '20261201130000')) await migrateUp(upgraded.db, name);
      expect((await migrationStatus(upgraded.db)).pending.filter((n) => issue11.test(n))).toHaveLength(6);
      // An assignment stored by user id keeps its variant under the hash that replaces the id.
      const u = upgraded.db;
      const [org] = await u('organizations').insert({ slug: `u-${crypto.randomUUID().slice(0, 6)}`, name: 'U' }).returning('id');
      const [tour] = await u('tour_definitions').insert({ organization_id: org.id, tour_key: 'k', name: 'T' }).returning('id');
      const [test] = await u('tour_ab_tests').insert({ organization_id: org.id, tour_id: tour.id, test_name: 'A/B' }).returning('id');
      const person = crypto.randomUUID();
      await u('tour_ab_assignments').insert({ organization_id: org.id, ab_test_id: test.id, tour_id: tour.id, user_id: person, variant: 'b' });
      await migrateLatest(u);
      expect((await migrationStatus(u)).pending).toEqual([]);
      expect(await u('tour_ab_assignments').whereRaw('subject_hash = tourhub_ab_subject(?::uuid, ?::uuid)', [test.id, person]).pluck('variant')).toEqual(['b']);

      await migrateLatest(db);
      const functions = (d: Db) => d.raw(`select proname, md5(pg_get_functiondef(p.oid)) as def from pg_proc p join pg_namespace n on n.oid = p.pronamespace where nspname = 'public' order by 1, 2`);
      const fresh = { schema: await schema(), functions: (await functions(db)).rows };
      const saved = db;
      db = upgraded.db;
      try {
        expect({ schema: await schema(), functions: (await functions(upgraded.db)).rows }).toEqual(fresh);
      } finally {
        db = saved;
      }
    } finally {
      await upgraded.drop();
    }
  });

  it('upgrades a database that ran main\'s migrations before two-way sync\'s, all dated earlier, to the same schema', async () => {
    // Two-way sync's branch dated six migrations before issue 10's and 12's, which main ran first; its
    // worker grants come after the worker role's.
    const sync = /^20261128140[0-6]00_|^20261203090000_/;
    const upgraded = await scratchDatabase({ migrate: false });
    try {
      const all = (await migrationStatus(upgraded.db)).pending;
      for (const name of all.filter((n) => !sync.test(n))) await migrateUp(upgraded.db, name);
      expect((await migrationStatus(upgraded.db)).pending.filter((n) => sync.test(n))).toHaveLength(7);
      const u = upgraded.db;
      const [org] = await u('organizations').insert({ slug: `s-${crypto.randomUUID().slice(0, 6)}`, name: 'S' }).returning('id');
      const person = crypto.randomUUID();
      await u('organization_members').insert({ organization_id: org.id, user_id: person, role: 'member', email: 'ava@example.com', display_name: 'Ava Reed' });
      await migrateLatest(u);
      expect((await migrationStatus(u)).pending).toEqual([]);
      // The member's last change is kept by the trigger from now on, whoever writes.
      const longAgo = new Date('2020-01-01T00:00:00.000Z');
      await u('organization_members').where({ user_id: person }).update({ updated_at: longAgo });
      await u('organization_members').where({ user_id: person }).update({ display_name: 'Ava Stone' });
      const after = await u('organization_members').where({ user_id: person }).first('updated_at');
      expect(after.updated_at.getTime()).toBeGreaterThan(longAgo.getTime());

      await migrateLatest(db);
      const functions = (d: Db) => d.raw(`select proname, md5(pg_get_functiondef(p.oid)) as def from pg_proc p join pg_namespace n on n.oid = p.pronamespace where nspname = 'public' order by 1, 2`);
      const triggers = (d: Db) => d.raw(`select tgname, tgrelid::regclass::text as rel from pg_trigger where not tgisinternal order by 1, 2`);
      const fresh = { schema: await schema(), functions: (await functions(db)).rows, triggers: (await triggers(db)).rows };
      const saved = db;
      db = upgraded.db;
      try {
        expect({ schema: await schema(), functions: (await functions(upgraded.db)).rows, triggers: (await triggers(upgraded.db)).rows }).toEqual(fresh);
      } finally {
        db = saved;
      }
    } finally {
      await upgraded.drop();
    }
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
