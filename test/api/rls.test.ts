import crypto from 'node:crypto';
import request from 'supertest';
import { withTenant, type Tenant } from '../../db/tenant';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { startStack, tokenFor, type Stack } from '../support/stack';

let stack: Stack;
let orgA: OrgFixture;
let orgB: OrgFixture;
let progressA: string;

beforeAll(async () => {
  stack = await startStack();
  [orgA, orgB] = await Promise.all([createOrg(stack.ownerDb), createOrg(stack.ownerDb)]);
  const token = await tokenFor(stack, { orgId: orgA.orgId, userId: orgA.memberId });
  const res = await request(stack.app).post(`/api/tours/${orgA.tourId}/start`).set('Authorization', `Bearer ${token}`).send({});
  progressA = res.body.progress_id;
  // A second member of A also has progress, to show members see only their own.
  const other = await tokenFor(stack, { orgId: orgA.orgId, userId: orgA.otherMemberId });
  await request(stack.app).post(`/api/tours/${orgA.tourId}/start`).set('Authorization', `Bearer ${other}`).send({}).expect(201);
});

afterAll(async () => {
  await stack.close();
});

const as = (org: OrgFixture, who: 'admin' | 'member' | 'other'): Tenant => ({
  orgId: org.orgId,
  userId: who === 'admin' ? org.adminId : who === 'member' ? org.memberId : org.otherMemberId,
  role: who === 'admin' ? 'admin' : 'member',
});

describe('row-level security', () => {
  it('connects the API as a role that is neither the tables\' owner nor a superuser', async () => {
    const row = await stack.appDb.raw(`select current_user as me, rolsuper, rolbypassrls from pg_roles where rolname = current_user`);
    expect(row.rows[0]).toEqual({ me: 'tourhub_app', rolsuper: false, rolbypassrls: false });
    const owner = await stack.ownerDb.raw(`select tableowner from pg_tables where tablename = 'user_tour_progress'`);
    expect(owner.rows[0].tableowner).not.toBe('tourhub_app');
  });

  it('shows nothing at all without a tenant context', async () => {
    expect(await stack.appDb('tour_definitions').count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(await stack.appDb('user_tour_progress').count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('gives a user of organisation B a 404 for organisation A\'s tour and progress', async () => {
    const tokenB = await tokenFor(stack, { orgId: orgB.orgId, userId: orgB.adminId, role: 'admin' });
    const tour = await request(stack.app).get(`/api/tours/${orgA.tourId}`).set('Authorization', `Bearer ${tokenB}`);
    expect(tour.status).toBe(404);
    expect(tour.body.error.code).toBe('not_found');
    const progress = await request(stack.app).get(`/api/tours/progress/${progressA}`).set('Authorization', `Bearer ${tokenB}`);
    expect(progress.status).toBe(404);
    const start = await request(stack.app).post(`/api/tours/${orgA.tourId}/start`).set('Authorization', `Bearer ${tokenB}`).send({});
    expect(start.status).toBe(404);
    const list = await request(stack.app).get('/api/tours').set('Authorization', `Bearer ${tokenB}`);
    expect(list.body.tours.map((t: { id: string }) => t.id)).toEqual([orgB.tourId]);
  });

  it('hides every organisation-owned table from another organisation, even its admin', async () => {
    const tables = ['organizations', 'organization_members', 'tour_definitions', 'tour_steps', 'tour_versions', 'user_tour_progress', 'tour_analytics_events', 'tour_ab_tests', 'tour_ab_assignments'];
    for (const table of tables) {
      const seen = await withTenant(stack.appDb, as(orgB, 'admin'), (trx) =>
        trx(table).where(table === 'organizations' ? { id: orgA.orgId } : { organization_id: orgA.orgId }).count({ n: '*' }),
      );
      expect({ table, n: seen[0]!.n }).toEqual({ table, n: 0 });
    }
  });

  it('lets a member see only their own progress, and an admin all of the organisation\'s', async () => {
    const mine = await withTenant(stack.appDb, as(orgA, 'member'), (trx) => trx('user_tour_progress').pluck('user_id'));
    expect(mine).toEqual([orgA.memberId]);
    const all = await withTenant(stack.appDb, as(orgA, 'admin'), (trx) => trx('user_tour_progress').pluck('user_id'));
    expect(all.sort()).toEqual([orgA.memberId, orgA.otherMemberId].sort());
    const theirEvents = await withTenant(stack.appDb, as(orgA, 'member'), (trx) =>
      trx('tour_analytics_events').whereNot({ user_id: orgA.memberId }).count({ n: '*' }),
    );
    expect(theirEvents[0]!.n).toBe(0);
  });

  it('lets only admins write tour definitions and steps', async () => {
    const insert = (tenant: Tenant) =>
      withTenant(stack.appDb, tenant, (trx) =>
        trx.raw(`INSERT INTO tour_definitions (organization_id, tour_key, name) VALUES (?, ?, 'New tour')`, [
          tenant.orgId,
          `t-${crypto.randomUUID().slice(0, 8)}`,
        ]),
      );
    await expect(insert(as(orgA, 'member'))).rejects.toThrow(/row-level security/);
    await expect(insert(as(orgA, 'admin'))).resolves.toBeDefined();

    const renamed = await withTenant(stack.appDb, as(orgA, 'member'), (trx) =>
      trx('tour_definitions').where({ id: orgA.tourId }).update({ name: 'Hijacked' }),
    );
    expect(renamed).toBe(0);
    const stepEdit = await withTenant(stack.appDb, as(orgA, 'member'), (trx) =>
      trx('tour_steps').where({ tour_id: orgA.tourId }).update({ title: 'Hijacked' }),
    );
    expect(stepEdit).toBe(0);
    // An admin cannot write into another organisation either.
    await expect(
      withTenant(stack.appDb, as(orgB, 'admin'), (trx) =>
        trx.raw(`INSERT INTO tour_definitions (organization_id, tour_key, name) VALUES (?, 'sneaky', 'x')`, [orgA.orgId]),
      ),
    ).rejects.toThrow(/row-level security/);
    const name = await stack.ownerDb('tour_definitions').where({ id: orgA.tourId }).first('name');
    expect(name.name).not.toBe('Hijacked');
  });

  it('hides inactive tours from members but not from admins', async () => {
    await stack.ownerDb('tour_definitions').where({ id: orgA.tourId }).update({ is_active: false });
    try {
      const member = await withTenant(stack.appDb, as(orgA, 'member'), (trx) => trx('tour_definitions').where({ id: orgA.tourId }));
      const admin = await withTenant(stack.appDb, as(orgA, 'admin'), (trx) => trx('tour_definitions').where({ id: orgA.tourId }));
      expect([member.length, admin.length]).toEqual([0, 1]);
    } finally {
      await stack.ownerDb('tour_definitions').where({ id: orgA.tourId }).update({ is_active: true });
    }
  });

  it('keeps published versions immutable: admins publish, nobody through the API rewrites or deletes one', async () => {
    const admin = as(orgA, 'admin');
    const [before] = await stack.ownerDb('tour_versions').where({ tour_id: orgA.tourId, version: 1 });
    await expect(withTenant(stack.appDb, admin, (trx) => trx('tour_versions').where({ tour_id: orgA.tourId }).update({ definition: JSON.stringify({}) }))).rejects.toThrow(/permission denied/);
    await expect(withTenant(stack.appDb, admin, (trx) => trx('tour_versions').where({ tour_id: orgA.tourId }).delete())).rejects.toThrow(/permission denied/);
    await expect(
      withTenant(stack.appDb, as(orgA, 'member'), (trx) => trx('tour_versions').insert({ organization_id: orgA.orgId, tour_id: orgA.tourId, version: 99, definition: '{}', steps: '[]' })),
    ).rejects.toThrow(/row-level security/);
    expect(await stack.ownerDb('tour_versions').where({ tour_id: orgA.tourId, version: 1 }).first()).toEqual(before);
    // Members read the versions of their organisation's tours, to show a run its texts.
    expect(await withTenant(stack.appDb, as(orgA, 'member'), (trx) => trx('tour_versions').where({ tour_id: orgA.tourId }).pluck('version'))).toEqual([1]);
  });

  it('lets a member store and read only their own A/B assignment, by the hash of test and user', async () => {
    const [test] = await stack.ownerDb('tour_ab_tests').insert({ organization_id: orgA.orgId, tour_id: orgA.tourId, test_name: 'rls' }).returning('id');
    const insertAs = (tenant: Tenant, userId: string) =>
      withTenant(stack.appDb, tenant, (trx) =>
        trx('tour_ab_assignments').insert({ organization_id: orgA.orgId, ab_test_id: test.id, tour_id: orgA.tourId, variant: 'a', subject_hash: trx.raw('tourhub_ab_subject(?::uuid, ?::uuid)', [test.id, userId]) }),
      );
    await expect(insertAs(as(orgA, 'member'), orgA.otherMemberId)).rejects.toThrow(/row-level security/);
    await insertAs(as(orgA, 'member'), orgA.memberId);
    const count = (tenant: Tenant) => withTenant(stack.appDb, tenant, (trx) => trx('tour_ab_assignments').where({ ab_test_id: test.id }).count({ n: '*' }));
    expect((await count(as(orgA, 'member')))[0]!.n).toBe(1);
    expect((await count(as(orgA, 'other')))[0]!.n).toBe(0);
    expect((await count(as(orgA, 'admin')))[0]!.n).toBe(1);
  });

  it('keeps integration tables to the organisation\'s admins', async () => {
    const [integration] = await stack.ownerDb('organization_integrations')
      .insert({ organization_id: orgA.orgId, type: 'crm', provider: 'tave', credentials: JSON.stringify({ ciphertext: 'x' }) })
      .returning('id');
    const member = await withTenant(stack.appDb, as(orgA, 'member'), (trx) => trx('organization_integrations').where({ id: integration.id }));
    const admin = await withTenant(stack.appDb, as(orgA, 'admin'), (trx) => trx('organization_integrations').where({ id: integration.id }));
    const outsider = await withTenant(stack.appDb, as(orgB, 'admin'), (trx) => trx('organization_integrations').where({ id: integration.id }));
    expect([member.length, admin.length, outsider.length]).toEqual([0, 1, 0]);
  });

  it('shows outbound events only to their organisation\'s admins, and lets the API write none', async () => {
    const [event] = await stack.ownerDb('outbound_events')
      .insert({ organization_id: orgA.orgId, event_type: 'integration.degraded', payload: JSON.stringify({ provider: 'tave' }) })
      .returning('id');
    const seenBy = (tenant: Tenant) => withTenant(stack.appDb, tenant, (trx) => trx('outbound_events').where({ id: event.id }));
    const [member, admin, outsider] = await Promise.all([seenBy(as(orgA, 'member')), seenBy(as(orgA, 'admin')), seenBy(as(orgB, 'admin'))]);
    expect([member.length, admin.length, outsider.length]).toEqual([0, 1, 0]);
    await expect(
      withTenant(stack.appDb, as(orgA, 'admin'), (trx) => trx('outbound_events').insert({ organization_id: orgA.orgId, event_type: 'integration.recovered' })),
    ).rejects.toThrow(/permission denied/);
  });

  it('keeps two-way sync\'s conflicts, runs and records to the organisation\'s admins, its staging from the API altogether, and lets the API queue passes of its own organisation only', async () => {
    const [integration] = await stack.ownerDb('organization_integrations')
      .insert({ organization_id: orgA.orgId, type: 'crm', provider: 'tave', credentials: JSON.stringify({ ciphertext: 'x' }) })
      .onConflict(['organization_id', 'type', 'provider'])
      .merge()
      .returning('id');
    const [conflict] = await stack.ownerDb('sync_conflicts')
      .insert({ organization_id: orgA.orgId, integration_id: integration.id, record_key: 'a@b.c', field: 'phone', ours_value: JSON.stringify('+1'), theirs_value: JSON.stringify('+2') })
      .returning('id');
    const [run] = await stack.ownerDb('sync_runs').insert({ organization_id: orgA.orgId, integration_id: integration.id, full_pass: true, reason: 'resync' }).returning('id');
    await stack.ownerDb('sync_records').insert({ organization_id: orgA.orgId, integration_id: integration.id, record_key: 'a@b.c' });
    await stack.ownerDb('sync_remote_records').insert({ run_id: run.id, record_key: 'a@b.c', remote_id: 'r1', fields: JSON.stringify({ phone: '+2' }) });
    const seen = async (tenant: Tenant) =>
      withTenant(stack.appDb, tenant, async (trx) => [
        (await trx('sync_conflicts').where({ id: conflict.id })).length,
        (await trx('sync_runs').where({ id: run.id })).length,
        (await trx('sync_records').where({ integration_id: integration.id })).length,
        (await trx('sync_remote_records').where({ run_id: run.id }).catch(() => [])).length,
      ]);
    expect(await seen(as(orgA, 'member'))).toEqual([0, 0, 0, 0]);
    expect(await seen(as(orgB, 'admin'))).toEqual([0, 0, 0, 0]);
    expect(await seen(as(orgA, 'admin'))).toEqual([1, 1, 1, 0]);
    // The API's role may queue a pass for its own organisation, and nothing else.
    await expect(
      withTenant(stack.appDb, as(orgB, 'admin'), (trx) => trx('sync_runs').insert({ organization_id: orgA.orgId, integration_id: integration.id, full_pass: true, reason: 'x', status: 'queued' })),
    ).rejects.toThrow(/row-level security/);
    await expect(
      withTenant(stack.appDb, as(orgA, 'admin'), (trx) => trx('sync_runs').insert({ organization_id: orgA.orgId, integration_id: integration.id, full_pass: true, reason: 'x', status: 'completed' })),
    ).rejects.toThrow(/row-level security/);
    const resolvedByOutsider = await withTenant(stack.appDb, as(orgB, 'admin'), (trx) => trx('sync_conflicts').where({ id: conflict.id }).update({ status: 'resolved' }));
    expect(resolvedByOutsider).toBe(0);
  });
});
