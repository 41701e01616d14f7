import crypto from 'node:crypto';
import request from 'supertest';
import { WorkflowServiceError, type DeliveryReplays } from '../../services/temporal';
import { replayWorkflowId } from '../../workflows/delivery-replay';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { insertTestDelivery, insertTestIntegration } from '../support/hub-rows';
import { startStack, testSecretBox, tokenFor, type Stack } from '../support/stack';

/**
 * Records every replay the API starts, instead of starting workflows; `down` makes it answer as an
 * unreachable Temporal, `slow` makes each start take that long (two replays then overlap).
 */
const started: { deliveryId: string; summary: string }[] = [];
let down = false;
let slow = 0;
const fakeReplays: DeliveryReplays = {
  async replay(deliveryId, summary) {
    if (slow) await new Promise((r) => setTimeout(r, slow));
    if (down) throw new WorkflowServiceError('temporal_unavailable', 'The workflow service is unavailable; retry shortly');
    started.push({ deliveryId, summary });
    return { workflowId: replayWorkflowId(deliveryId), runId: 'run-1' };
  },
};

const box = testSecretBox();
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ worker: false, replays: fakeReplays });
});

afterAll(async () => {
  await stack.close();
});

beforeEach(() => {
  started.length = 0;
  down = false;
  slow = 0;
});

const api = () => request(stack.app);
const admin = (org: OrgFixture) => tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });

function expectError(res: request.Response, status: number, code: string) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.details).toBeDefined();
}

/** An organisation with a CRM and an email integration and deliveries in every state, one minute apart (oldest first). */
async function orgWithDeliveries() {
  const org = await createOrg(stack.ownerDb);
  const crm = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'tave' });
  const email = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'mailchimp', category: 'email' });
  const base = Date.now() - 3_600_000;
  const at = (i: number) => new Date(base + i * 60_000);
  const rows = {
    crmDeadOld: await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId: crm, status: 'dead', createdAt: at(0) }),
    crmSucceeded: await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId: crm, status: 'succeeded', createdAt: at(1) }),
    emailDead: await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId: email, status: 'dead', eventType: 're_engagement_due', createdAt: at(2) }),
    crmFailed: await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId: crm, status: 'failed', eventType: 'tour_started', createdAt: at(3) }),
    crmDeadNew: await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId: crm, status: 'dead', eventType: 'tour_abandoned', createdAt: at(4) }),
  };
  return { org, token: await admin(org), crm, email, rows };
}

describe('GET /api/integrations/deliveries', () => {
  it('lists the organisation\'s deliveries newest first, without payloads or sealed calls', async () => {
    const { token, crm, rows } = await orgWithDeliveries();
    const res = await api().get('/api/integrations/deliveries').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body.deliveries.map((d: { id: string }) => d.id)).toEqual([rows.crmDeadNew.id, rows.crmFailed.id, rows.emailDead.id, rows.crmSucceeded.id, rows.crmDeadOld.id]);
    expect(res.body.next_cursor).toBeNull();
    const first = res.body.deliveries[0];
    expect(Object.keys(first).sort()).toEqual(
      ['id', 'integration_id', 'provider', 'event_id', 'event_type', 'action', 'idempotency_key', 'status', 'attempts', 'last_error', 'skip_reason', 'suppressed_reason', 'created_at', 'updated_at', 'delivered_at', 'workflow_id'].sort(),
    );
    expect(first).toMatchObject({ integration_id: crm, provider: 'tave', event_type: 'tour_abandoned', action: 'crm.logActivity', status: 'dead', attempts: 1, idempotency_key: rows.crmDeadNew.idempotencyKey, delivered_at: null });
    // The planned call names a person; neither it nor its sealed form ever leaves through the listing.
    expect(JSON.stringify(res.body)).not.toContain('ava@example.com');
    expect(JSON.stringify(res.body)).not.toContain('ciphertext');
  });

  it('filters by status, integration and event type', async () => {
    const { token, crm, email, rows } = await orgWithDeliveries();
    const ids = async (query: string) => {
      const res = await api().get(`/api/integrations/deliveries?${query}`).set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
      return res.body.deliveries.map((d: { id: string }) => d.id);
    };
    expect(await ids('status=dead')).toEqual([rows.crmDeadNew.id, rows.emailDead.id, rows.crmDeadOld.id]);
    expect(await ids(`status=dead&integration_id=${crm}`)).toEqual([rows.crmDeadNew.id, rows.crmDeadOld.id]);
    expect(await ids(`integration_id=${email}`)).toEqual([rows.emailDead.id]);
    expect(await ids('event_type=tour_started')).toEqual([rows.crmFailed.id]);
    expect(await ids('status=succeeded&event_type=tour_completed')).toEqual([rows.crmSucceeded.id]);
    expect(await ids(`integration_id=${crypto.randomUUID()}`)).toEqual([]);
  });

  it('pages with a cursor through rows created in the same microsecond without losing or repeating one', async () => {
    const org = await createOrg(stack.ownerDb);
    const token = await admin(org);
    const integrationId = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'tave' });
    const same = new Date(Date.now() - 60_000);
    const older = new Date(same.getTime() - 60_000);
    const made = [
      ...(await Promise.all(Array.from({ length: 4 }, () => insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId, createdAt: same })))),
      await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId, createdAt: older }),
    ];
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: request.Response = await api()
        .get(`/api/integrations/deliveries?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(res.body.deliveries.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.deliveries.map((d: { id: string }) => d.id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    // Newest first: the four of the same instant (by id, descending), then the older one.
    expect(seen.slice(0, 4)).toEqual(made.slice(0, 4).map((d) => d.id).sort().reverse());
    expect(seen[4]).toBe(made[4]!.id);
  });

  it('keeps the microseconds in the cursor, so rows apart by less than a millisecond page correctly', async () => {
    const org = await createOrg(stack.ownerDb);
    const token = await admin(org);
    const integrationId = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'tave' });
    const made = [];
    for (const micros of ['100', '200', '300']) {
      const d = await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId });
      await stack.ownerDb.raw(`update integration_deliveries set created_at = ?::timestamptz where id = ?`, [`2026-11-23T12:00:00.000${micros}Z`, d.id]);
      made.push(d.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 3; page++) {
      const res: request.Response = await api()
        .get(`/api/integrations/deliveries?limit=1${cursor ? `&cursor=${cursor}` : ''}`)
        .set('Authorization', `Bearer ${token}`);
      seen.push(...res.body.deliveries.map((d: { id: string }) => d.id));
      cursor = res.body.next_cursor;
    }
    expect(seen).toEqual([...made].reverse());
    expect(cursor).toBeNull();
  });

  const badQueries: [string, string][] = [
    ['an unknown status', 'status=lost'],
    ['two statuses', 'status=dead&status=failed'],
    ['an integration id that is not a UUID', 'integration_id=tave'],
    ['an event type that is never routed', 'event_type=step_completed'],
    ['a limit of 0', 'limit=0'],
    ['a limit above 200', 'limit=201'],
    ['a limit that is not a number', 'limit=ten'],
    ['a cursor this API never returned', 'cursor=not-a-cursor'],
    ['a well-formed cursor with a bad timestamp', `cursor=${Buffer.from(JSON.stringify({ t: 'yesterday', i: crypto.randomUUID() })).toString('base64url')}`],
    ['an unknown parameter', 'sort=asc'],
  ];
  it.each(badQueries)('refuses %s with 400 validation_error', async (_name, query) => {
    const org = await createOrg(stack.ownerDb);
    const res = await api().get(`/api/integrations/deliveries?${query}`).set('Authorization', `Bearer ${await admin(org)}`);
    expectError(res, 400, 'validation_error');
    expect(res.body.error.details.issues.length).toBeGreaterThan(0);
  });

  it('shows another organisation\'s admin none of them, and refuses a member with 403', async () => {
    const { org, crm } = await orgWithDeliveries();
    const outsider = await createOrg(stack.ownerDb);
    const all = await api().get('/api/integrations/deliveries').set('Authorization', `Bearer ${await admin(outsider)}`);
    expect(all.body.deliveries).toEqual([]);
    const byId = await api().get(`/api/integrations/deliveries?integration_id=${crm}`).set('Authorization', `Bearer ${await admin(outsider)}`);
    expect(byId.body.deliveries).toEqual([]);
    const member = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    expectError(await api().get('/api/integrations/deliveries').set('Authorization', `Bearer ${member}`), 403, 'admin_required');
  });
});

describe('POST /api/integrations/deliveries/:id/replay', () => {
  it('starts the replay of one dead delivery and answers 202 with its workflow', async () => {
    const { token, rows } = await orgWithDeliveries();
    const res = await api().post(`/api/integrations/deliveries/${rows.crmDeadOld.id}/replay`).set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ replay: { delivery_id: rows.crmDeadOld.id, workflow_id: `delivery-replay:${rows.crmDeadOld.id}` } });
    expect(started).toEqual([{ deliveryId: rows.crmDeadOld.id, summary: `Replay of tave: crm.logActivity for tour_completed (delivery ${rows.crmDeadOld.id})` }]);
  });

  it('refuses a delivered one with 409, an unknown or another organisation\'s with 404, and starts nothing', async () => {
    const { token, rows } = await orgWithDeliveries();
    const delivered = await api().post(`/api/integrations/deliveries/${rows.crmSucceeded.id}/replay`).set('Authorization', `Bearer ${token}`);
    expectError(delivered, 409, 'already_delivered');
    expect(delivered.body.error.details).toEqual({ delivery_id: rows.crmSucceeded.id, status: 'succeeded' });
    expectError(await api().post(`/api/integrations/deliveries/${crypto.randomUUID()}/replay`).set('Authorization', `Bearer ${token}`), 404, 'not_found');
    expectError(await api().post('/api/integrations/deliveries/not-a-uuid/replay').set('Authorization', `Bearer ${token}`), 400, 'validation_error');
    const outsider = await createOrg(stack.ownerDb);
    expectError(await api().post(`/api/integrations/deliveries/${rows.crmDeadOld.id}/replay`).set('Authorization', `Bearer ${await admin(outsider)}`), 404, 'not_found');
    expect(started).toEqual([]);
  });

  it('refuses a delivery with no sealed call, or of a disabled integration, with 409', async () => {
    const org = await createOrg(stack.ownerDb);
    const token = await admin(org);
    const active = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'tave' });
    const disabled = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'honeybook', isActive: false });
    const unsealed = await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId: active, sealed: false });
    const ofDisabled = await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId: disabled });
    expectError(await api().post(`/api/integrations/deliveries/${unsealed.id}/replay`).set('Authorization', `Bearer ${token}`), 409, 'delivery_not_replayable');
    expectError(await api().post(`/api/integrations/deliveries/${ofDisabled.id}/replay`).set('Authorization', `Bearer ${token}`), 409, 'integration_disabled');
    expect(started).toEqual([]);
  });

  it('refuses a pending, retrying or already replaying delivery with 409 delivery_not_dead, and starts nothing', async () => {
    const { org, token, crm, rows } = await orgWithDeliveries();
    const pending = await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId: crm, status: 'pending' });
    for (const [id, status] of [[pending.id, 'pending'], [rows.crmFailed.id, 'failed']] as const) {
      const res = await api().post(`/api/integrations/deliveries/${id}/replay`).set('Authorization', `Bearer ${token}`);
      expectError(res, 409, 'delivery_not_dead');
      expect(res.body.error.details).toEqual({ delivery_id: id, status });
    }
    expect(started).toEqual([]);
    // A replay claims its delivery: while it runs, the delivery is pending and a second replay is refused.
    await api().post(`/api/integrations/deliveries/${rows.crmDeadOld.id}/replay`).set('Authorization', `Bearer ${token}`).expect(202);
    expect(await stack.ownerDb('integration_deliveries').where({ id: rows.crmDeadOld.id }).first()).toMatchObject({ status: 'pending' });
    expectError(await api().post(`/api/integrations/deliveries/${rows.crmDeadOld.id}/replay`).set('Authorization', `Bearer ${token}`), 409, 'delivery_not_dead');
    expect(started.map((s) => s.deliveryId)).toEqual([rows.crmDeadOld.id]);
  });

  it('starts one replay when two admins replay the same dead delivery at once', async () => {
    const { token, rows } = await orgWithDeliveries();
    slow = 300; // both pass the status check before either has started its workflow
    const [a, b] = await Promise.all([
      api().post(`/api/integrations/deliveries/${rows.crmDeadOld.id}/replay`).set('Authorization', `Bearer ${token}`),
      api().post(`/api/integrations/deliveries/${rows.crmDeadOld.id}/replay`).set('Authorization', `Bearer ${token}`),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    expect((a.status === 409 ? a : b).body.error).toMatchObject({ code: 'delivery_not_dead', details: { status: 'pending' } });
    expect(started.map((s) => s.deliveryId)).toEqual([rows.crmDeadOld.id]);
  });

  it('answers 503 temporal_unavailable when the replay cannot be started, and leaves the delivery dead', async () => {
    const { token, rows } = await orgWithDeliveries();
    down = true;
    expectError(await api().post(`/api/integrations/deliveries/${rows.crmDeadOld.id}/replay`).set('Authorization', `Bearer ${token}`), 503, 'temporal_unavailable');
    expect(await stack.ownerDb('integration_deliveries').where({ id: rows.crmDeadOld.id }).first()).toMatchObject({ status: 'dead' });
  });

  it('refuses a member with 403', async () => {
    const { org, rows } = await orgWithDeliveries();
    const member = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    expectError(await api().post(`/api/integrations/deliveries/${rows.crmDeadOld.id}/replay`).set('Authorization', `Bearer ${member}`), 403, 'admin_required');
    expect(started).toEqual([]);
  });
});

describe('POST /api/integrations/:id/replay', () => {
  it('starts a replay of each of the integration\'s dead deliveries, oldest first, and only those', async () => {
    const { token, crm, rows } = await orgWithDeliveries();
    const res = await api().post(`/api/integrations/${crm}/replay`).set('Authorization', `Bearer ${token}`).send({ status: 'dead' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      integration_id: crm,
      status: 'dead',
      replays: [
        { delivery_id: rows.crmDeadOld.id, workflow_id: `delivery-replay:${rows.crmDeadOld.id}` },
        { delivery_id: rows.crmDeadNew.id, workflow_id: `delivery-replay:${rows.crmDeadNew.id}` },
      ],
      count: 2,
      limit: 500,
      dead_total: 2,
      remaining: 0,
      not_replayable: [],
      failed: [],
    });
    expect(res.body.message).toMatch(/at most 500 per call/);
    expect(started.map((s) => s.deliveryId).sort()).toEqual([rows.crmDeadOld.id, rows.crmDeadNew.id].sort());
  });

  it('accepts no body at all, and refuses any status but dead or an unknown field with 400', async () => {
    const { token, email, rows } = await orgWithDeliveries();
    const bare = await api().post(`/api/integrations/${email}/replay`).set('Authorization', `Bearer ${token}`);
    expect(bare.status).toBe(202);
    expect(bare.body.replays).toEqual([{ delivery_id: rows.emailDead.id, workflow_id: `delivery-replay:${rows.emailDead.id}` }]);
    started.length = 0;
    expectError(await api().post(`/api/integrations/${email}/replay`).set('Authorization', `Bearer ${token}`).send({ status: 'failed' }), 400, 'validation_error');
    expectError(await api().post(`/api/integrations/${email}/replay`).set('Authorization', `Bearer ${token}`).send({ everything: true }), 400, 'validation_error');
    expect(started).toEqual([]);
  });

  it('answers 202 with nothing to do when nothing is dead', async () => {
    const org = await createOrg(stack.ownerDb);
    const integrationId = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'tave' });
    await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId, status: 'succeeded' });
    const res = await api().post(`/api/integrations/${integrationId}/replay`).set('Authorization', `Bearer ${await admin(org)}`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ replays: [], count: 0, dead_total: 0, remaining: 0 });
  });

  it('starts at most 500 per call and says how many remain', async () => {
    const org = await createOrg(stack.ownerDb);
    const integrationId = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'tave' });
    const base = Date.now() - 3_600_000;
    for (let chunk = 0; chunk < 503; chunk += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, 503 - chunk) }, (_, i) =>
          insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId, createdAt: new Date(base + (chunk + i) * 1000) }),
        ),
      );
    }
    const res = await api().post(`/api/integrations/${integrationId}/replay`).set('Authorization', `Bearer ${await admin(org)}`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ count: 500, limit: 500, dead_total: 503, remaining: 3 });
    expect(res.body.message).toMatch(/3 dead deliveries remain/);
    expect(started).toHaveLength(500);
  });

  it('lists dead deliveries it cannot replay instead of starting them', async () => {
    const org = await createOrg(stack.ownerDb);
    const integrationId = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'tave' });
    const sealed = await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId });
    const unsealed = await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId, sealed: false });
    const res = await api().post(`/api/integrations/${integrationId}/replay`).set('Authorization', `Bearer ${await admin(org)}`);
    expect(res.body).toMatchObject({ count: 1, not_replayable: [unsealed.id], dead_total: 2, remaining: 0 });
    expect(started.map((s) => s.deliveryId)).toEqual([sealed.id]);
  });

  it('refuses an unknown or another organisation\'s integration with 404, a disabled one with 409, a member with 403', async () => {
    const { org, crm } = await orgWithDeliveries();
    const outsider = await createOrg(stack.ownerDb);
    expectError(await api().post(`/api/integrations/${crm}/replay`).set('Authorization', `Bearer ${await admin(outsider)}`), 404, 'not_found');
    expectError(await api().post(`/api/integrations/${crypto.randomUUID()}/replay`).set('Authorization', `Bearer ${await admin(org)}`), 404, 'not_found');
    const member = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    expectError(await api().post(`/api/integrations/${crm}/replay`).set('Authorization', `Bearer ${member}`), 403, 'admin_required');
    await stack.ownerDb('organization_integrations').where({ id: crm }).update({ is_active: false, health: 'disabled' });
    expectError(await api().post(`/api/integrations/${crm}/replay`).set('Authorization', `Bearer ${await admin(org)}`), 409, 'integration_disabled');
    expect(started).toEqual([]);
  });
});
