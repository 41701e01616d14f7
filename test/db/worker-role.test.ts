import crypto from 'node:crypto';
import { workerDatabaseUrl } from '../../config';
import { createDb, type Db } from '../../db/knex';
import { loadHubContext } from '../../db/repositories/organizations';
import { saveTransition } from '../../db/repositories/progress';
import { WORKER_GRANTS } from '../../migrations/20261202090000_create_worker_role';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { testConfig } from '../support/stack';

/**
 * Tables the worker has no business with: what its activities never read or write. A table in neither
 * this list nor WORKER_GRANTS fails the last test, so whoever adds a table decides whether the worker
 * needs it (a grant and a policy in a migration) or not (this list).
 */
const NO_WORKER_ACCESS = [
  'knex_migrations',
  'knex_migrations_lock',
  'tour_ab_tests',
  'tour_ab_assignments',
  'webhook_events',
  'sync_timestamps',
  'oauth_states', // the API's OAuth consents
  'api_rate_limits', // the API's per-user request counts
];

let owner: Db;
let worker: Db;
let org: OrgFixture;

beforeAll(async () => {
  const config = testConfig();
  owner = createDb(config.database.url!, { poolMax: 2 });
  worker = createDb(workerDatabaseUrl(config), { poolMax: 2 });
  org = await createOrg(owner);
  await owner('organization_members').where({ organization_id: org.orgId, user_id: org.memberId }).update({ email: 'jane@example.com', display_name: 'Jane Doe', phone: '+15551234567' });
});

afterAll(async () => {
  await Promise.all([owner.destroy(), worker.destroy()]);
});

const refused = (p: Promise<unknown>) => expect(p).rejects.toThrow(/permission denied/);

describe('the tourhub_worker role', () => {
  it('connects as itself, not as the owner, and owns nothing', async () => {
    const { rows } = await worker.raw('select current_user as me, (select count(*)::int from pg_tables where tableowner = current_user) as owned');
    expect(rows[0]).toEqual({ me: 'tourhub_worker', owned: 0 });
  });

  it('does what the activities do, for any organisation, without a tenant', async () => {
    const context = await loadHubContext(worker, org.orgId, org.memberId);
    expect(context.person).toMatchObject({ email: 'jane@example.com', firstName: 'Jane', lastName: 'Doe', phone: '+15551234567' });
    const state = {
      progressId: crypto.randomUUID(), orgId: org.orgId, userId: org.memberId, tourId: org.tourId, status: 'in_progress' as const,
      currentStepIndex: 0, completedSteps: [], skippedSteps: [], totalSteps: 5, version: 1, startedAt: new Date().toISOString(),
      completedAt: null, lastInteractionAt: new Date().toISOString(), totalTimeMs: 0, feedback: {}, deviceType: null, viewportSize: null,
    };
    const events = [{ type: 'tour_started' as const, stepIndex: 0, stepKey: 'step_0', version: 1, index: 0 }];
    expect(await saveTransition(worker, { state, workflowId: 'wf', events })).toEqual({ written: true });
    // A retry writes nothing twice (the analytics insert ignores its duplicate).
    expect(await saveTransition(worker, { state, workflowId: 'wf', events })).toEqual({ written: false });
  });

  it('cannot create, alter or drop tables', async () => {
    await refused(worker.raw('create table worker_was_here (id int)'));
    await expect(worker.raw('drop table organizations')).rejects.toThrow(/must be owner/);
    await expect(worker.raw('alter table organization_integrations add column x int')).rejects.toThrow(/must be owner/);
  });

  it('cannot read what it has no use for, nor change what it only reads', async () => {
    await refused(worker('knex_migrations').select('name'));
    await refused(worker('webhook_events').select('id'));
    await refused(worker('tour_ab_tests').select('id'));
    await refused(worker('organization_members').select('role')); // only the contact columns
    await refused(worker('organizations').select('slug'));
    await refused(worker('organization_integrations').where({ organization_id: org.orgId }).delete());
    await refused(worker('organization_integrations').where({ organization_id: org.orgId }).update({ settings: '{}' }));
    await refused(worker('tour_definitions').where({ id: org.tourId }).update({ name: 'renamed' }));
    await refused(worker('organization_members').insert({ organization_id: org.orgId, user_id: crypto.randomUUID(), role: 'admin' }));
    await refused(worker('tour_analytics_events').select('id'));
    await refused(worker('tour_ab_assignments').select('id'));
    await refused(worker('integration_logs').where({ organization_id: org.orgId }).delete());
    await refused(worker('user_tour_progress').where({ organization_id: org.orgId }).delete());
  });

  it('has exactly the grants its migration lists, and every table is decided either way', async () => {
    const { rows: tables } = await owner.raw(`select tablename from pg_tables where schemaname = 'public' order by tablename`);
    const undecided = tables.map((t: { tablename: string }) => t.tablename).filter((t: string) => !(t in WORKER_GRANTS) && !NO_WORKER_ACCESS.includes(t));
    expect({ undecided }).toEqual({ undecided: [] });

    // From the catalogs' ACLs (information_schema's column view takes seconds): table grants, then column grants.
    const { rows } = await owner.raw(
      `select c.relname as table_name, a.privilege_type
         from pg_class c join pg_namespace n on n.oid = c.relnamespace, aclexplode(c.relacl) a
        where n.nspname = 'public' and a.grantee = 'tourhub_worker'::regrole
       union all
       select c.relname, a.privilege_type || '(' || att.attname || ')'
         from pg_attribute att join pg_class c on c.oid = att.attrelid join pg_namespace n on n.oid = c.relnamespace, aclexplode(att.attacl) a
        where n.nspname = 'public' and att.attacl is not null and a.grantee = 'tourhub_worker'::regrole`,
    );
    const granted = new Map<string, Set<string>>();
    for (const r of rows as { table_name: string; privilege_type: string }[]) {
      if (!granted.has(r.table_name)) granted.set(r.table_name, new Set());
      granted.get(r.table_name)!.add(r.privilege_type);
    }
    const expected = new Map<string, Set<string>>();
    for (const [table, spec] of Object.entries(WORKER_GRANTS)) {
      const set = new Set<string>();
      for (const m of spec.matchAll(/(SELECT|INSERT|UPDATE|DELETE)(?:\s*\(([^)]*)\))?/g)) {
        if (m[2]) for (const column of m[2].split(',')) set.add(`${m[1]}(${column.trim()})`);
        else set.add(m[1]!);
      }
      expected.set(table, set);
    }
    const sorted = (m: Map<string, Set<string>>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)).map(([t, s]) => [t, [...s].sort()]));
    expect(sorted(granted)).toEqual(sorted(expected));
    for (const t of NO_WORKER_ACCESS) expect(granted.has(t)).toBe(false);
  });
});
