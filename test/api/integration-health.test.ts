import request from 'supertest';
import { assessHealth } from '../../db/repositories/health';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { insertAttempts, insertTestDelivery, insertTestIntegration } from '../support/hub-rows';
import { startStack, testSecretBox, tokenFor, type Stack } from '../support/stack';

const box = testSecretBox();
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ worker: false });
});

afterAll(async () => {
  await stack.close();
});

const api = () => request(stack.app);
const admin = (org: OrgFixture) => tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });
const MIN = 60_000;
const HOUR = 60 * MIN;
const THRESHOLDS = { degradedBelow: 0.95, minAttempts: 10 };

function expectError(res: request.Response, status: number, code: string) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
}

type Health = Record<string, unknown> & { id: string };
async function health(token: string): Promise<Map<string, Health>> {
  const res = await api().get('/api/integrations/health').set('Authorization', `Bearer ${token}`);
  expect(res.status).toBe(200);
  return new Map(res.body.integrations.map((i: Health) => [i.id, i]));
}

describe('GET /api/integrations/health', () => {
  it('computes success rates, p95, dead, pending and the oldest pending from the attempts and deliveries', async () => {
    const org = await createOrg(stack.ownerDb);
    const crm = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'tave' });
    const email = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'mailchimp', category: 'email' });
    const sms = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'twilio', category: 'sms' });
    const calendar = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'outlook', category: 'calendar' });
    await stack.ownerDb('organization_integrations').where({ id: calendar }).update({ is_active: false, health: 'disabled' });

    // CRM, last hour: 20 attempts of 1..20 ms, one failed (95%). Earlier today: 20 of 100..119 ms, half failed.
    // Two days ago: 10 failures that no longer count.
    await insertAttempts(stack.ownerDb, { orgId: org.orgId, integrationId: crm, provider: 'tave' }, [
      ...Array.from({ length: 20 }, (_, i) => ({ success: i !== 0, durationMs: i + 1, agoMs: 10 * MIN })),
      ...Array.from({ length: 20 }, (_, i) => ({ success: i % 2 === 0, durationMs: 100 + i, agoMs: 5 * HOUR })),
      ...Array.from({ length: 10 }, () => ({ success: false, durationMs: 5000, agoMs: 48 * HOUR })),
    ]);
    // Email: ten quick successes in the last hour.
    await insertAttempts(stack.ownerDb, { orgId: org.orgId, integrationId: email, provider: 'mailchimp', category: 'email' }, Array.from({ length: 10 }, () => ({ success: true, durationMs: 50, agoMs: 5 * MIN })));
    // CRM deliveries: two pending and one failed (all waiting), two dead, one delivered.
    const oldest = new Date(Date.now() - 3 * HOUR);
    const d = (status: 'pending' | 'failed' | 'dead' | 'succeeded', createdAt: Date) => insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId: crm, status, createdAt });
    await d('pending', oldest);
    await d('pending', new Date(Date.now() - HOUR));
    await d('failed', new Date(Date.now() - 30 * MIN));
    await d('dead', new Date(Date.now() - 4 * HOUR));
    await d('dead', new Date(Date.now() - 2 * HOUR));
    await d('succeeded', new Date(Date.now() - 5 * HOUR));

    const res = await api().get('/api/integrations/health').set('Authorization', `Bearer ${await admin(org)}`);
    expect(res.status).toBe(200);
    expect(res.body.target).toEqual({ success_rate_last_day: 0.95 });
    const byId = new Map(res.body.integrations.map((i: Health) => [i.id, i]));
    expect(byId.get(crm)).toEqual({
      id: crm,
      provider: 'tave',
      type: 'crm',
      health: 'healthy',
      health_changed_at: null,
      success_rate_last_hour: 0.95,
      success_rate_last_day: 29 / 40,
      // percentile_cont over 1..20: 1 + 0.95 * 19 = 19.05; over the day's 40: between 117 and 118, at 117.05.
      p95_ms_last_hour: 19,
      p95_ms_last_day: 117,
      attempts_last_hour: 20,
      attempts_last_day: 40,
      dead: 2,
      pending: 3,
      oldest_pending_at: oldest.toISOString(),
      meets_target: false,
    });
    expect(byId.get(email)).toMatchObject({ success_rate_last_hour: 1, success_rate_last_day: 1, p95_ms_last_hour: 50, attempts_last_day: 10, dead: 0, pending: 0, oldest_pending_at: null, meets_target: true });
    // No attempts: nothing to judge, so no rates and no verdict.
    expect(byId.get(sms)).toMatchObject({ success_rate_last_hour: null, success_rate_last_day: null, p95_ms_last_hour: null, p95_ms_last_day: null, attempts_last_hour: 0, meets_target: null });
    expect(byId.get(calendar)).toMatchObject({ health: 'disabled', meets_target: null });
  });

  it('shows the flip assessHealth made, with when it happened', async () => {
    const org = await createOrg(stack.ownerDb);
    const crm = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'tave' });
    await insertAttempts(stack.ownerDb, { orgId: org.orgId, integrationId: crm, provider: 'tave' }, Array.from({ length: 10 }, () => ({ success: false, durationMs: 20, agoMs: MIN })));
    await assessHealth(stack.ownerDb, { id: crm, organization_id: org.orgId, provider: 'tave' }, THRESHOLDS);
    const row = (await health(await admin(org))).get(crm)!;
    expect(row).toMatchObject({ health: 'degraded', success_rate_last_hour: 0, meets_target: false });
    expect(Date.now() - Date.parse(row.health_changed_at as string)).toBeLessThan(HOUR);
  });

  it('shows another organisation\'s admin none of them, and refuses a member with 403', async () => {
    const org = await createOrg(stack.ownerDb);
    await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'tave' });
    const outsider = await createOrg(stack.ownerDb);
    expect((await health(await admin(outsider))).size).toBe(0);
    const member = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    expectError(await api().get('/api/integrations/health').set('Authorization', `Bearer ${member}`), 403, 'admin_required');
  });
});

describe('GET /api/notifications', () => {
  it('lists the degraded, paused and recovered events assessHealth raised, newest first', async () => {
    const org = await createOrg(stack.ownerDb);
    const token = await admin(org);
    const crm = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'tave' });
    const integration = { id: crm, organization_id: org.orgId, provider: 'tave' };
    const empty = await api().get('/api/notifications').set('Authorization', `Bearer ${token}`);
    expect(empty.body).toEqual({ notifications: [], total: 0 });

    await insertAttempts(stack.ownerDb, { orgId: org.orgId, integrationId: crm, provider: 'tave' }, Array.from({ length: 10 }, () => ({ success: false, durationMs: 20, agoMs: 2 * MIN })));
    await assessHealth(stack.ownerDb, integration, THRESHOLDS);
    // Calls succeed again after the flip: recovered once the last few attempts succeeded.
    await insertAttempts(stack.ownerDb, { orgId: org.orgId, integrationId: crm, provider: 'tave' }, Array.from({ length: 3 }, () => ({ success: true, durationMs: 20, agoMs: 0 })));
    await assessHealth(stack.ownerDb, integration, THRESHOLDS);

    const res = await api().get('/api/notifications').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(3);
    expect(res.body.notifications.map((n: { type: string }) => n.type).sort()).toEqual(['integration.degraded', 'integration.paused', 'integration.recovered']);
    expect(res.body.notifications[0].type).toBe('integration.recovered');
    expect(res.body.notifications.find((n: { type: string }) => n.type === 'integration.degraded')).toMatchObject({
      subject_id: crm,
      payload: { integration_id: crm, provider: 'tave', success_rate: 0, attempts: 10, threshold: 0.95 },
    });
    const one = await api().get('/api/notifications?limit=1').set('Authorization', `Bearer ${token}`);
    expect(one.body.notifications.map((n: { type: string }) => n.type)).toEqual(['integration.recovered']);
  });

  it('shows another organisation\'s admin none, refuses a member with 403 and a bad limit with 400', async () => {
    const org = await createOrg(stack.ownerDb);
    const crm = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'tave' });
    await insertAttempts(stack.ownerDb, { orgId: org.orgId, integrationId: crm, provider: 'tave' }, Array.from({ length: 10 }, () => ({ success: false, durationMs: 20, agoMs: MIN })));
    expect(await assessHealth(stack.ownerDb, { id: crm, organization_id: org.orgId, provider: 'tave' }, THRESHOLDS)).toMatchObject({ to: 'degraded' });

    const outsider = await createOrg(stack.ownerDb);
    const theirs = await api().get('/api/notifications').set('Authorization', `Bearer ${await admin(outsider)}`);
    expect(theirs.body).toEqual({ notifications: [], total: 0 });
    const member = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    expectError(await api().get('/api/notifications').set('Authorization', `Bearer ${member}`), 403, 'admin_required');
    for (const q of ['limit=0', 'limit=201', 'limit=x', 'since=yesterday']) {
      expectError(await api().get(`/api/notifications?${q}`).set('Authorization', `Bearer ${await admin(org)}`), 400, 'validation_error');
    }
  });
});
