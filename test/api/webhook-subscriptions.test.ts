import crypto from 'node:crypto';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { createOutboundGuard } from '../../connectors/outbound';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { startStack, tokenFor, type Stack } from '../support/stack';

// Names resolve through this table, as DNS would: one public host, and one that points inside.
const DNS: Record<string, string> = { 'hooks.example.com': '93.184.215.14', 'inside.example.com': '10.20.30.40' };
const outbound = createOutboundGuard({ resolve: async (host) => (DNS[host] ? [{ address: DNS[host]!, family: 4 }] : []) });

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ worker: false, outbound });
});

afterAll(async () => {
  await stack.close();
  await outbound.close();
});

const admin = async (org: OrgFixture) => `Bearer ${await tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' })}`;
const api = () => request(stack.app);

function expectError(res: request.Response, status: number, code: string) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.details).toBeDefined();
}

async function subscribe(org: OrgFixture, body: Record<string, unknown> = { url: 'https://hooks.example.com/tourhub', events: ['tour.*', 'integration.degraded'] }) {
  return api().post('/api/webhooks/subscriptions').set('Authorization', await admin(org)).send(body);
}

describe('/api/webhooks/subscriptions', () => {
  it('creates a subscription with a Standard Webhooks secret shown once, then lists, reads, changes and deletes it', async () => {
    const org = await createOrg(stack.ownerDb);
    const auth = await admin(org);
    const made = await subscribe(org);
    expect(made.status).toBe(201);
    expect(made.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    // The library that verifies deliveries accepts the secret as given.
    expect(() => new Webhook(made.body.secret)).not.toThrow();
    expect(made.body.subscription).toMatchObject({ url: 'https://hooks.example.com/tourhub', events: ['tour.*', 'integration.degraded'], status: 'active', consecutive_failures: 0 });
    const id = made.body.subscription.id;

    const listed = await api().get('/api/webhooks/subscriptions').set('Authorization', auth);
    expect(listed.body.subscriptions.map((s: { id: string }) => s.id)).toEqual([id]);
    expect(JSON.stringify(listed.body)).not.toContain(made.body.secret.slice(6, 30));
    const stored = await stack.ownerDb('webhook_subscriptions').where({ id }).first();
    expect(JSON.stringify(stored)).not.toContain(made.body.secret.slice(6, 30));

    const changed = await api().patch(`/api/webhooks/subscriptions/${id}`).set('Authorization', auth).send({ events: ['*'], status: 'paused', description: 'CRM bridge' });
    expect(changed.body.subscription).toMatchObject({ events: ['*'], status: 'paused', description: 'CRM bridge', paused_reason: 'paused by an admin' });
    const resumed = await api().patch(`/api/webhooks/subscriptions/${id}`).set('Authorization', auth).send({ status: 'active' });
    expect(resumed.body.subscription).toMatchObject({ status: 'active', paused_at: null });

    const rotated = await api().post(`/api/webhooks/subscriptions/${id}/rotate-secret`).set('Authorization', auth).send({ grace_period_hours: 1 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(made.body.secret);
    expect(new Date(rotated.body.subscription.previous_secret_expires_at).getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);

    await api().delete(`/api/webhooks/subscriptions/${id}`).set('Authorization', auth).expect(204);
    expectError(await api().get(`/api/webhooks/subscriptions/${id}`).set('Authorization', auth), 404, 'not_found');
  });

  it('refuses a URL on a private, loopback or metadata address, before or after DNS, with 422 and the rule', async () => {
    const org = await createOrg(stack.ownerDb);
    for (const [url, rule] of [
      ['https://10.0.0.5/hook', 'private'],
      ['https://192.168.1.20:8443/hook', 'private'],
      ['https://127.0.0.1:9000/hook', 'loopback'],
      ['https://localhost/hook', 'loopback'],
      ['https://[::1]/hook', 'loopback'],
      ['https://169.254.169.254/latest', 'metadata'],
      ['https://inside.example.com/hook', 'private'],
    ] as const) {
      const res = await subscribe(org, { url, events: ['*'] });
      expectError(res, 422, 'outbound_address_forbidden');
      expect({ url, rule: res.body.error.details.rule }).toEqual({ url, rule });
    }
    expectError(await subscribe(org, { url: 'http://hooks.example.com/hook' }), 400, 'validation_error');
    expect(await stack.ownerDb('webhook_subscriptions').where({ organization_id: org.orgId })).toEqual([]);
    // A saved subscription cannot be moved inside either.
    const id = (await subscribe(org)).body.subscription.id;
    expectError(await api().patch(`/api/webhooks/subscriptions/${id}`).set('Authorization', await admin(org)).send({ url: 'https://10.1.1.1/x' }), 422, 'outbound_address_forbidden');
    expect((await stack.ownerDb('webhook_subscriptions').where({ id }).first()).url).toBe('https://hooks.example.com/tourhub');
  });

  it('refuses bad input with the envelope and changes nothing', async () => {
    const org = await createOrg(stack.ownerDb);
    const auth = await admin(org);
    const unknown = await subscribe(org, { url: 'https://hooks.example.com/a', events: ['tour.finished', 'tour.*'] });
    expectError(unknown, 422, 'unknown_event_type');
    expect(unknown.body.error.details.unknown).toEqual(['tour.finished']);
    expectError(await subscribe(org, { url: 'https://hooks.example.com/a', events: [] }), 400, 'validation_error');
    expectError(await subscribe(org, { url: 'not a url' }), 400, 'validation_error');
    expectError(await subscribe(org, { url: 'https://hooks.example.com/a', secret: 'mine' }), 400, 'validation_error');
    expectError(await api().post('/api/webhooks/subscriptions').set('Authorization', auth).set('Content-Type', 'text/plain').send('url=x'), 415, 'unsupported_media_type');
    expectError(await api().post('/api/webhooks/subscriptions').set('Authorization', auth).set('Content-Type', 'application/json').send('{"url":'), 400, 'malformed_json');
    expectError(await api().patch('/api/webhooks/subscriptions/nope').set('Authorization', auth).send({}), 400, 'validation_error');
    expectError(await api().get(`/api/webhooks/subscriptions/${crypto.randomUUID()}/deliveries?limit=0`).set('Authorization', auth), 400, 'validation_error');
    expect(await stack.ownerDb('webhook_subscriptions').where({ organization_id: org.orgId })).toEqual([]);
    // Malformed ids and bodies on the subscription's own routes leave it as it was.
    const id = (await subscribe(org)).body.subscription.id as string;
    const before = await stack.ownerDb('webhook_subscriptions').where({ id }).first();
    for (const hours of [-1, 'soon', 10_000]) {
      expectError(await api().post(`/api/webhooks/subscriptions/${id}/rotate-secret`).set('Authorization', auth).send({ grace_period_hours: hours }), 400, 'validation_error');
    }
    expectError(await api().post(`/api/webhooks/subscriptions/${id}/rotate-secret`).set('Authorization', auth).send({ grace: 1 }), 400, 'validation_error');
    expectError(await api().get(`/api/webhooks/subscriptions/${id}/deliveries/not-a-uuid`).set('Authorization', auth), 400, 'validation_error');
    expectError(await api().post(`/api/webhooks/subscriptions/${id}/deliveries/not-a-uuid/resend`).set('Authorization', auth).send({}), 400, 'validation_error');
    expectError(await api().delete('/api/webhooks/signing-secrets/not-a-uuid').set('Authorization', auth), 400, 'validation_error');
    expect(await stack.ownerDb('webhook_subscriptions').where({ id }).first()).toEqual(before);
  });

  it("answers 404 for another organisation's subscriptions and deliveries, and 403 for members", async () => {
    const org = await createOrg(stack.ownerDb);
    const other = await createOrg(stack.ownerDb);
    const id = (await subscribe(org)).body.subscription.id;
    const otherAuth = await admin(other);
    const deliveryId = crypto.randomUUID();
    for (const req of [
      api().get(`/api/webhooks/subscriptions/${id}`),
      api().patch(`/api/webhooks/subscriptions/${id}`).send({ status: 'paused' }),
      api().delete(`/api/webhooks/subscriptions/${id}`),
      api().post(`/api/webhooks/subscriptions/${id}/rotate-secret`).send({}),
      api().get(`/api/webhooks/subscriptions/${id}/deliveries`),
      api().get(`/api/webhooks/subscriptions/${id}/deliveries/${deliveryId}`),
      api().post(`/api/webhooks/subscriptions/${id}/deliveries/${deliveryId}/resend`),
    ]) {
      expectError(await req.set('Authorization', otherAuth), 404, 'not_found');
    }
    expect((await api().get('/api/webhooks/subscriptions').set('Authorization', otherAuth)).body.subscriptions).toEqual([]);
    expect(await stack.ownerDb('webhook_subscriptions').where({ id }).first()).toMatchObject({ status: 'active' });
    const memberAuth = `Bearer ${await tokenFor(stack, { orgId: org.orgId, userId: org.memberId })}`;
    expectError(await api().get('/api/webhooks/subscriptions').set('Authorization', memberAuth), 403, 'admin_required');
    expectError(await api().get('/api/webhooks/event-types'), 401, 'missing_token');
    expect((await api().get('/api/webhooks/event-types').set('Authorization', otherAuth)).body.event_types).toContain('tour.completed');
  });
});
