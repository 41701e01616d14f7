import crypto from 'node:crypto';
import request from 'supertest';
import { createOutboundGuard, type OutboundGuard } from '../../connectors/outbound';
import { insertIntegration } from '../../db/repositories/integrations';
import { createOrg } from '../support/fixtures';
import { startListener, type Listener } from '../support/listener';
import { startStack, testConfig, testSecretBox, tokenFor, type Stack } from '../support/stack';

/**
 * Issue 10, "outbound calls go only where the vendor lives" and "credentials stay bound to their
 * vendor", against the API with real listeners on loopback:
 * - `internal` (127.0.0.1) stands for what an attacker aims at: our own API, a metadata server, an
 *   internal service. It must never receive anything.
 * - `vendor` (127.0.0.2) stands for Twilio, Stripe and Mailchimp: this deployment names it in
 *   CONNECTOR_BASE_URLS and allows 127.0.0.2 in OUTBOUND_ALLOWED_NETWORKS, as a test or sandbox would.
 * - `redirector` (127.0.0.2) is this deployment's Tave, answering every call with a redirect to `internal`.
 * A resolver of the test's own makes some allow-listed names resolve to 127.0.0.1.
 */

let internal: Listener;
let vendor: Listener;
let redirector: Listener;
let outbound: OutboundGuard;
let stack: Stack;
const box = testSecretBox();
/** Names the test's resolver answers 127.0.0.1 for; every other name is a public address. */
const loopbackNames = new Set(['localhost', 'hooks.zapier.com', 'rebind.lightbluesoftware.com']);

const STRIPE_LIST = { object: 'list', url: '/v1/customers', has_more: false, data: [] };

beforeAll(async () => {
  internal = await startListener({ host: '127.0.0.1' });
  vendor = await startListener({
    host: '127.0.0.2',
    handle: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(STRIPE_LIST));
    },
  });
  redirector = await startListener({
    host: '127.0.0.2',
    handle: (req, res) => {
      res.writeHead(302, { location: `${internal.url}/internal${req.url}` });
      res.end();
    },
  });
  const env = {
    CONNECTOR_BASE_URLS: [`twilio=${vendor.url}`, `stripe=${vendor.url}`, `mailchimp=${vendor.url}/3.0`, `tave=${redirector.url}/api/v2`].join(','),
    OUTBOUND_ALLOWED_NETWORKS: '127.0.0.2/32',
  };
  outbound = createOutboundGuard({
    ...testConfig(env).outbound,
    resolve: async (name) => [{ address: loopbackNames.has(name) ? '127.0.0.1' : '54.86.1.1', family: 4 }],
  });
  stack = await startStack({ worker: false, config: env, outbound });
});

afterAll(async () => {
  await stack?.close();
  await outbound?.close();
  await Promise.all([internal, vendor, redirector].map((l) => l?.close()));
});

beforeEach(() => {
  internal.requests.length = 0;
  vendor.requests.length = 0;
});

async function adminOfNewOrg(): Promise<{ orgId: string; token: string }> {
  const org = await createOrg(stack.ownerDb);
  return { orgId: org.orgId, token: await tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' }) };
}

const api = () => request(stack.app);
const create = (token: string, body: object) => api().post('/api/integrations').set('Authorization', `Bearer ${token}`).send(body);
const patch = (token: string, id: string, body: object) => api().patch(`/api/integrations/${id}`).set('Authorization', `Bearer ${token}`).send(body);
const test = (token: string, id: string) => api().post(`/api/integrations/${id}/test`).set('Authorization', `Bearer ${token}`);

/**
 * Creates the integration and, should the API accept it, runs its connection test: the attack of the
 * issue, so a listener that was reachable gets the call (and the secret) this test then looks for.
 */
async function attempt(token: string, body: object): Promise<request.Response> {
  const res = await create(token, body);
  if (res.status === 201) await test(token, res.body.integration.id);
  return res;
}

const HOOK_SECRET = 'whsec_0123456789abcdef0123456789abcdef';
const credentialsOf: Record<string, object> = {
  tave: { apiKey: 'K' },
  lightblue: { apiKey: 'lb-K' },
  honeybook: { hookUrl: 'https://hooks.zapier.com/hooks/catch/123/abc/', signingSecret: HOOK_SECRET },
  stripe: { secretKey: 'sk_test_tourhub123' },
  mailchimp: { apiKey: 'mc0123456789-us6' },
  twilio: { accountSid: `AC${'a'.repeat(32)}`, authToken: 'twilio-auth-token' },
};
const settingsOf: Record<string, object> = { mailchimp: { listId: 'l1' }, twilio: { from: '+15005550006' } };

describe('an organisation cannot point an integration at an address of its choosing', () => {
  it.each(Object.keys(credentialsOf))('refuses settings.baseUrl at our loopback listener for %s with 422 naming the rule, and nothing reaches the listener', async (provider) => {
    const { token } = await adminOfNewOrg();
    const res = await attempt(token, { provider, credentials: credentialsOf[provider], settings: { ...settingsOf[provider], baseUrl: `${internal.url}/internal/` } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'outbound_address_forbidden', details: { rule: 'loopback' } });
    expect(internal.requests).toEqual([]);
  });

  it.each([
    ['https://169.254.169.254/latest/', 'metadata'],
    ['https://10.1.2.3/', 'private'],
    ['https://attacker.example.com/', 'host_not_allowed'],
  ])('refuses settings.baseUrl %s with the rule it breaks (%s)', async (baseUrl, rule) => {
    const { token } = await adminOfNewOrg();
    const res = await attempt(token, { provider: 'tave', credentials: credentialsOf.tave, settings: { baseUrl } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'outbound_address_forbidden', details: { rule } });
  });

  it('answers a settings.baseUrl on the vendor\'s own host with 400: the field is gone, whatever it holds', async () => {
    const { token } = await adminOfNewOrg();
    const res = await attempt(token, { provider: 'stripe', credentials: credentialsOf.stripe, settings: { baseUrl: 'https://api.stripe.com/' } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'validation_error', details: { issues: [expect.objectContaining({ path: 'settings', code: 'unrecognized_keys' })] } });
  });

  it.each([
    ['google-calendar', 'calendar', { calendarId: 'primary' }],
    ['outlook-calendar', 'calendar', {}],
  ])('refuses settings.baseUrl on a %s integration (connected by OAuth) with 422 naming the rule', async (provider, category, settings) => {
    const { orgId, token } = await adminOfNewOrg();
    const id = crypto.randomUUID();
    await insertIntegration(stack.ownerDb, box, {
      id,
      organizationId: orgId,
      type: category,
      provider,
      settings: { provider: settings, field_mapping: {}, enabled_events: [] },
      credentials: { accessToken: 'ya29.token' },
      isActive: true,
    });
    const res = await patch(token, id, { settings: { ...settings, baseUrl: `${internal.url}/` } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'outbound_address_forbidden', details: { rule: 'loopback' } });
    expect(internal.requests).toEqual([]);
  });

  it.each([
    ['http://127.0.0.1:PORT/hooks/catch/1/x/', 'loopback'],
    ['https://127.0.0.1:PORT/hooks/catch/1/x/', 'loopback'],
    ['https://[::ffff:127.0.0.1]:PORT/hooks/catch/1/x/', 'loopback'],
    ['https://localhost:PORT/hooks/catch/1/x/', 'loopback'],
    ['https://169.254.169.254/latest/meta-data/iam/security-credentials/', 'metadata'],
    ['https://10.0.0.8/hooks/catch/1/x/', 'private'],
    ['https://192.168.1.20/hooks/catch/1/x/', 'private'],
    ['https://hooks.zapier.com.attacker.example/hooks/catch/1/x/', 'host_not_allowed'],
  ])('refuses the HoneyBook hook URL %s with 422 naming the rule (%s)', async (template, rule) => {
    const { token } = await adminOfNewOrg();
    const hookUrl = template.replace('PORT', String(internal.port));
    const res = await attempt(token, { provider: 'honeybook', credentials: { hookUrl, signingSecret: HOOK_SECRET } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'outbound_address_forbidden', details: { rule } });
    expect(JSON.stringify(res.body)).not.toContain(HOOK_SECRET);
    expect(internal.requests).toEqual([]);
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['[::1]', 'loopback'],
    ['localhost', 'loopback'],
    ['169.254.169.254', 'metadata'],
    ['10.0.0.8', 'private'],
    ['192.168.1.20', 'private'],
    ['lightbluesoftware.com.attacker.example', 'host_not_allowed'],
  ])('refuses the Light Blue account host %s with 422 naming the rule (%s)', async (accountHost, rule) => {
    const { token } = await adminOfNewOrg();
    const res = await attempt(token, { provider: 'lightblue', credentials: { apiKey: 'lb-K' }, settings: { accountHost } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'outbound_address_forbidden', details: { rule } });
    expect(internal.requests).toEqual([]);
  });

  it('refuses an allow-listed name that resolves to 127.0.0.1, for a HoneyBook hook and a Light Blue host', async () => {
    const { token } = await adminOfNewOrg();
    const hook = await attempt(token, { provider: 'honeybook', credentials: { hookUrl: 'https://hooks.zapier.com/hooks/catch/1/x/', signingSecret: HOOK_SECRET } });
    expect(hook.status).toBe(422);
    expect(hook.body.error).toMatchObject({ code: 'outbound_address_forbidden', details: { rule: 'loopback', host: 'hooks.zapier.com', address: '127.0.0.1' } });
    const lb = await attempt(token, { provider: 'lightblue', credentials: { apiKey: 'lb-K' }, settings: { accountHost: 'rebind.lightbluesoftware.com' } });
    expect(lb.status).toBe(422);
    expect(lb.body.error).toMatchObject({ code: 'outbound_address_forbidden', details: { rule: 'loopback', address: '127.0.0.1' } });
  });

  it('refuses at /test a host that resolved to a public address when saved and to 127.0.0.1 now (rebinding)', async () => {
    const { token } = await adminOfNewOrg();
    const created = await create(token, { provider: 'lightblue', credentials: { apiKey: 'lb-K' }, settings: { accountHost: 'moving.lightbluesoftware.com' } });
    expect(created.status).toBe(201);
    loopbackNames.add('moving.lightbluesoftware.com');
    try {
      const res = await test(token, created.body.integration.id);
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'outbound_address_forbidden', details: { rule: 'loopback', host: 'moving.lightbluesoftware.com', address: '127.0.0.1' } });
    } finally {
      loopbackNames.delete('moving.lightbluesoftware.com');
    }
  });

  it('does not follow a vendor’s redirect to loopback: /test answers 422 and the redirect’s target receives nothing', async () => {
    const { token } = await adminOfNewOrg();
    const created = await create(token, { provider: 'tave', credentials: { apiKey: 'K' } });
    expect(created.status).toBe(201);
    const res = await test(token, created.body.integration.id);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'outbound_redirect_refused', details: { rule: 'redirect', status: 302, location_host: `127.0.0.1:${internal.port}` } });
    expect(internal.requests).toEqual([]);
  });
});

describe('credentials stay bound to their vendor', () => {
  it('refuses a Light Blue host change without the API key, and accepts it with the key', async () => {
    const { token } = await adminOfNewOrg();
    const created = await create(token, { provider: 'lightblue', credentials: { apiKey: 'lb-K' } });
    expect(created.status).toBe(201);
    const id = created.body.integration.id;

    const moved = await patch(token, id, { settings: { accountHost: 'eu.lightbluesoftware.com' } });
    expect(moved.status).toBe(422);
    expect(moved.body.error).toMatchObject({
      code: 'credentials_required',
      details: { from_host: 'online.lightbluesoftware.com', to_host: 'eu.lightbluesoftware.com', fields: ['credentials.apiKey'] },
    });
    // Other changes need nothing of the kind.
    expect((await patch(token, id, { enabled_events: ['tour_completed'] })).status).toBe(200);

    const withKey = await patch(token, id, { settings: { accountHost: 'eu.lightbluesoftware.com' }, credentials: { apiKey: 'lb-K2' } });
    expect(withKey.status).toBe(200);
    expect(withKey.body.integration.settings).toEqual({ accountHost: 'eu.lightbluesoftware.com' });
    // And back: the key was given for eu.lightbluesoftware.com.
    expect((await patch(token, id, { settings: {} })).body.error).toMatchObject({ code: 'credentials_required' });
  });

  it('vets a new HoneyBook hook URL like a first one', async () => {
    const { token } = await adminOfNewOrg();
    const created = await create(token, { provider: 'honeybook', credentials: { hookUrl: 'https://hook.eu1.make.com/abc123', signingSecret: HOOK_SECRET } });
    expect(created.status).toBe(201);
    const res = await patch(token, created.body.integration.id, { credentials: { hookUrl: `https://127.0.0.1:${internal.port}/hook`, signingSecret: HOOK_SECRET } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'outbound_address_forbidden', details: { rule: 'loopback' } });
  });

  it.each(['twilio', 'stripe', 'mailchimp'])('sends %s credentials only to the vendor’s host, whatever a PATCH asks', async (provider) => {
    const { token } = await adminOfNewOrg();
    const created = await create(token, { provider, credentials: credentialsOf[provider], settings: settingsOf[provider] ?? {} });
    expect(created.status).toBe(201);
    const id = created.body.integration.id;
    const moved = await patch(token, id, { settings: { ...settingsOf[provider], baseUrl: internal.url } });
    expect(moved.status).toBe(422);
    const res = await test(token, id);
    expect(res.body).toMatchObject({ integration_id: id, ok: true });
    expect(vendor.requests).toHaveLength(1);
    expect(vendor.requests[0]!.headers.authorization).toMatch(/^(Basic|Bearer) /);
    expect(internal.requests).toEqual([]);
  });

  it('ignores a base URL stored before it was retired: calls go to the vendor, and it is never shown', async () => {
    const { orgId, token } = await adminOfNewOrg();
    const id = crypto.randomUUID();
    await insertIntegration(stack.ownerDb, box, {
      id,
      organizationId: orgId,
      type: 'sms',
      provider: 'twilio',
      settings: { provider: { from: '+15005550006', baseUrl: internal.url }, field_mapping: {}, enabled_events: [] },
      credentials: credentialsOf.twilio,
      isActive: true,
    });
    const shown = await api().get(`/api/integrations/${id}`).set('Authorization', `Bearer ${token}`);
    expect(shown.body.integration.settings).toEqual({ from: '+15005550006' });
    expect((await test(token, id)).body).toMatchObject({ ok: true });
    expect(vendor.requests).toHaveLength(1);
    expect(internal.requests).toEqual([]);
  });
});
