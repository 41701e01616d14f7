import crypto from 'node:crypto';
import { SignJWT } from 'jose';
import request from 'supertest';
import { z } from 'zod';
import type { OAuthClient } from '../../connectors/oauth';
import type { CrmConnector } from '../../connectors/contracts';
import { ConnectorError } from '../../connectors/errors';
import { createRegistry, type ProviderEntry } from '../../connectors/registry';
import { fakeCalendar } from '../support/connectors';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { startStack, testSecretBox, tokenFor, type Stack } from '../support/stack';

// A provider of our own making: these tests are about the API's mechanics, not a vendor.
let pingResult: 'ok' | 'unauthorized' | 'held' = 'ok';
/** While pingResult is 'held', pings wait here, as on a vendor that takes its time. */
let gate = Promise.resolve();
let heldPings = 0;
const fakeCrm: ProviderEntry = {
  id: 'fake-crm',
  category: 'crm',
  displayName: 'Fake CRM',
  auth: 'api-key',
  credentialsSchema: z.strictObject({ apiKey: z.string().min(8), accountId: z.string().min(1) }),
  settingsSchema: z.strictObject({ pipeline: z.string().optional() }),
  hosts: ['api.fake-crm.example'],
  ratePerSecond: 5,
  docsUrl: 'https://example.invalid/docs',
  create: () =>
    ({
      async ping() {
        if (pingResult === 'held') {
          heldPings++;
          await gate;
          return;
        }
        if (pingResult === 'unauthorized') {
          throw new ConnectorError({ code: 'unauthorized', retryable: false, provider: 'fake-crm', status: 401, message: 'fake-crm answered 401' });
        }
      },
    }) as unknown as CrmConnector,
};

const exchanged: string[] = [];
const fakeOAuth: OAuthClient = {
  authorizeUrl: ({ state, redirectUri, codeChallenge }) =>
    `https://consent.example.invalid/auth?state=${encodeURIComponent(state)}&redirect_uri=${encodeURIComponent(redirectUri)}&code_challenge=${codeChallenge}`,
  async exchangeCode({ code }) {
    exchanged.push(code);
    if (code === 'bad-code') throw new ConnectorError({ code: 'bad_request', retryable: false, provider: 'fake-calendar', status: 400, message: 'invalid_grant' });
    return { accessToken: 'ya29.access-token-from-exchange', refreshToken: '1//refresh-token-from-exchange', expiresAt: Date.now() + 3600_000 };
  },
  refreshGrant: async () => ({ accessToken: 'refreshed' }),
};

let stack: Stack;
let org: OrgFixture;
let admin: string;

beforeAll(async () => {
  stack = await startStack({ worker: false, registry: createRegistry([fakeCrm, fakeCalendar]), oauthClients: { 'fake-calendar': fakeOAuth } });
  org = await createOrg(stack.ownerDb);
  admin = await tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });
});

afterAll(async () => {
  await stack.close();
});

const api = () => request(stack.app);
const SECRET = 'fk_live_0123456789abcdef';

async function createFake(token = admin, body: object = {}) {
  return api().post('/api/integrations').set('Authorization', `Bearer ${token}`).send({
    provider: 'fake-crm',
    credentials: { apiKey: SECRET, accountId: 'acct-1' },
    settings: { pipeline: 'weddings' },
    enabled_events: ['tour_completed'],
    time_zone: 'America/New_York',
    ...body,
  });
}

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function expectError(res: request.Response, status: number, code: string) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
}

describe('integrations API', () => {
  it('creates, lists, reads, updates, disables and deletes an integration without ever returning a secret', async () => {
    const created = await createFake();
    expect(created.status).toBe(201);
    const id = created.body.integration.id;
    expect(created.body.integration).toMatchObject({
      provider: 'fake-crm',
      type: 'crm',
      is_active: true,
      settings: { pipeline: 'weddings' },
      enabled_events: ['tour_completed'],
      time_zone: 'America/New_York',
      credentials: { apiKey: '••••cdef', accountId: '••••' },
    });
    expect(JSON.stringify(created.body)).not.toContain(SECRET);

    const list = await api().get('/api/integrations').set('Authorization', `Bearer ${admin}`);
    expect(list.body.integrations.map((i: { id: string }) => i.id)).toContain(id);
    expect(JSON.stringify(list.body)).not.toContain(SECRET);

    const patched = await api()
      .patch(`/api/integrations/${id}`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ settings: { pipeline: 'elopements' }, field_mapping: { wedding_date: 'cf_wedding_date' } });
    expect(patched.status).toBe(200);
    expect(patched.body.integration).toMatchObject({ settings: { pipeline: 'elopements' }, field_mapping: { wedding_date: 'cf_wedding_date' }, enabled_events: ['tour_completed'] });

    const disabled = await api().post(`/api/integrations/${id}/disable`).set('Authorization', `Bearer ${admin}`);
    expect(disabled.body.integration).toMatchObject({ is_active: false, health: 'disabled' });

    await api().delete(`/api/integrations/${id}`).set('Authorization', `Bearer ${admin}`).expect(204);
    expectError(await api().get(`/api/integrations/${id}`).set('Authorization', `Bearer ${admin}`), 404, 'not_found');
  });

  it('never logs or stores the secret in clear', async () => {
    const other = await createOrg(stack.ownerDb);
    const token = await tokenFor(stack, { orgId: other.orgId, userId: other.adminId, role: 'admin' });
    const created = await createFake(token);
    const raw = await stack.ownerDb.raw(`select credentials::text as t from organization_integrations where id = ?`, [created.body.integration.id]);
    expect(raw.rows[0].t).not.toContain(SECRET);
  });

  it('refuses an unknown provider with 422 and the list of known ones', async () => {
    const res = await createFake(admin, { provider: 'myspace' });
    expectError(res, 422, 'unknown_provider');
    expect(res.body.error.details.known).toEqual(['fake-calendar', 'fake-crm']);
  });

  it('refuses credentials missing a field, naming the field and not echoing values', async () => {
    const res = await createFake(admin, { credentials: { apiKey: SECRET } });
    expectError(res, 422, 'invalid_credentials');
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(['accountId']);
    expect(JSON.stringify(res.body)).not.toContain(SECRET);
  });

  it('refuses settings the provider does not accept, and a bad time zone', async () => {
    // A field the provider has no use for is an unknown field, like anywhere else in a body.
    const unknown = await createFake(admin, { settings: { colour: 'blue' } });
    expectError(unknown, 400, 'validation_error');
    expect(unknown.body.error.details.issues).toEqual([expect.objectContaining({ path: 'settings', code: 'unrecognized_keys' })]);
    expectError(await createFake(admin, { settings: { pipeline: 7 } }), 422, 'invalid_settings');
    expectError(await createFake(admin, { time_zone: 'Mars/Olympus' }), 400, 'validation_error');
    expectError(await createFake(admin, { enabled_events: ['tour_exploded'] }), 400, 'validation_error');
  });

  it('accepts every routable event in enabled_events and refuses the step events that are never routed', async () => {
    const fresh = await createOrg(stack.ownerDb);
    const token = await tokenFor(stack, { orgId: fresh.orgId, userId: fresh.adminId, role: 'admin' });
    const all = ['tour_started', 'tour_completed', 'tour_abandoned', 'feedback_submitted', 're_engagement_due', 'check_in_due'];
    const created = await createFake(token, { enabled_events: all });
    expect(created.status).toBe(201);
    expect(created.body.integration.enabled_events).toEqual(all);
    for (const never of ['step_completed', 'step_skipped']) {
      const res = await createFake(token, { enabled_events: ['tour_completed', never] });
      expectError(res, 400, 'validation_error');
      expect(res.body.error.details.issues[0].path).toBe('enabled_events.1');
    }
  });

  describe('routes', () => {
    const DEFAULTS = {
      follow_up_task_days: 7,
      abandoned_task_days: 2,
      consultation_days_after: 3,
      consultation_hour: 14,
      consultation_minutes: 60,
      check_in_hour: 10,
      check_in_minutes: 30,
      sms_welcome_enabled: false,
      send_immediate_welcome: false,
    };

    async function freshAdmin(timeZone?: string) {
      const fresh = await createOrg(stack.ownerDb);
      if (timeZone) await stack.ownerDb('organizations').where({ id: fresh.orgId }).update({ time_zone: timeZone });
      return tokenFor(stack, { orgId: fresh.orgId, userId: fresh.adminId, role: 'admin' });
    }

    it('shows seed 001\'s defaults in the organisation\'s zone when nothing is overridden', async () => {
      const token = await freshAdmin('Europe/Lisbon');
      const created = await createFake(token, { time_zone: undefined });
      expect(created.body.integration.routes).toEqual({ ...DEFAULTS, time_zone: 'Europe/Lisbon' });
      expect(created.body.integration.route_overrides).toEqual({});
    });

    it('stores overrides on create, merges them on PATCH (null goes back to the default) and shows the effective routes', async () => {
      const token = await freshAdmin();
      const created = await createFake(token, { routes: { follow_up_task_days: 3, sms_welcome_enabled: true, consultation_minutes: 90 } });
      expect(created.status).toBe(201);
      const id = created.body.integration.id;
      expect(created.body.integration.routes).toEqual({ ...DEFAULTS, follow_up_task_days: 3, sms_welcome_enabled: true, consultation_minutes: 90, time_zone: 'America/New_York' });
      expect(created.body.integration.route_overrides).toEqual({ follow_up_task_days: 3, sms_welcome_enabled: true, consultation_minutes: 90 });

      const patched = await api()
        .patch(`/api/integrations/${id}`)
        .set('Authorization', `Bearer ${token}`)
        .send({ routes: { follow_up_task_days: null, consultation_hour: 9 } });
      expect(patched.status).toBe(200);
      expect(patched.body.integration.routes).toEqual({ ...DEFAULTS, consultation_hour: 9, sms_welcome_enabled: true, consultation_minutes: 90, time_zone: 'America/New_York' });
      expect(patched.body.integration.route_overrides).toEqual({ consultation_hour: 9, sms_welcome_enabled: true, consultation_minutes: 90 });

      // Another field's PATCH leaves the routes alone; the read shows the same.
      await api().patch(`/api/integrations/${id}`).set('Authorization', `Bearer ${token}`).send({ field_mapping: { tour_name: 'cf_tour' } }).expect(200);
      const read = await api().get(`/api/integrations/${id}`).set('Authorization', `Bearer ${token}`);
      expect(read.body.integration.route_overrides).toEqual({ consultation_hour: 9, sms_welcome_enabled: true, consultation_minutes: 90 });
      const stored = await stack.ownerDb('organization_integrations').where({ id }).first('settings');
      expect(stored.settings.routes).toEqual({ consultation_hour: 9, sms_welcome_enabled: true, consultation_minutes: 90 });
    });

    const bad: [string, Record<string, unknown>][] = [
      ['days above 365', { follow_up_task_days: 366 }],
      ['negative days', { abandoned_task_days: -1 }],
      ['fractional days', { consultation_days_after: 1.5 }],
      ['hour 24', { consultation_hour: 24 }],
      ['minutes below 5', { consultation_minutes: 4 }],
      ['minutes above 480', { check_in_minutes: 481 }],
      ['a string boolean', { sms_welcome_enabled: 'yes' }],
      ['an unknown field', { reminder_days: 1 }],
    ];
    it.each(bad)('refuses %s with 400 on create and PATCH', async (_name, routes) => {
      const token = await freshAdmin();
      const res = await createFake(token, { routes });
      expectError(res, 400, 'validation_error');
      expect(res.body.error.details.issues[0].path).toMatch(/^routes/);
      const id = (await createFake(token)).body.integration.id;
      expectError(await api().patch(`/api/integrations/${id}`).set('Authorization', `Bearer ${token}`).send({ routes }), 400, 'validation_error');
    });
  });

  it('refuses a non-admin with 403 and keeps other organisations\' integrations out of reach', async () => {
    const member = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    expectError(await createFake(member), 403, 'admin_required');
    expectError(await api().get('/api/integrations').set('Authorization', `Bearer ${member}`), 403, 'admin_required');

    const mine = await createFake(admin, { provider: 'fake-crm' }).then((r) => (r.status === 201 ? r : createFake(admin)));
    const id = mine.body.integration?.id ?? (await api().get('/api/integrations').set('Authorization', `Bearer ${admin}`)).body.integrations[0].id;
    const outsiderOrg = await createOrg(stack.ownerDb);
    const outsider = await tokenFor(stack, { orgId: outsiderOrg.orgId, userId: outsiderOrg.adminId, role: 'admin' });
    expectError(await api().get(`/api/integrations/${id}`).set('Authorization', `Bearer ${outsider}`), 404, 'not_found');
    expectError(await api().delete(`/api/integrations/${id}`).set('Authorization', `Bearer ${outsider}`), 404, 'not_found');
  });

  it('refuses a second integration of the same provider with 409', async () => {
    const fresh = await createOrg(stack.ownerDb);
    const token = await tokenFor(stack, { orgId: fresh.orgId, userId: fresh.adminId, role: 'admin' });
    expect((await createFake(token)).status).toBe(201);
    expectError(await createFake(token), 409, 'integration_exists');
  });

  it('tests an integration with the provider\'s cheapest read and reports the result', async () => {
    const fresh = await createOrg(stack.ownerDb);
    const token = await tokenFor(stack, { orgId: fresh.orgId, userId: fresh.adminId, role: 'admin' });
    const id = (await createFake(token)).body.integration.id;
    pingResult = 'ok';
    const ok = await api().post(`/api/integrations/${id}/test`).set('Authorization', `Bearer ${token}`);
    expect(ok.body).toMatchObject({ integration_id: id, ok: true });
    pingResult = 'unauthorized';
    const failed = await api().post(`/api/integrations/${id}/test`).set('Authorization', `Bearer ${token}`);
    expect(failed.body).toMatchObject({ ok: false, error: { code: 'unauthorized', retryable: false, status: 401 } });
  });

  it('holds no database connection while the vendor takes its time, and runs at most two tests at once per organisation', async () => {
    const orgs = await Promise.all([createOrg(stack.ownerDb), createOrg(stack.ownerDb)]);
    const [token, otherToken] = (await Promise.all(orgs.map((o) => tokenFor(stack, { orgId: o.orgId, userId: o.adminId, role: 'admin' })))) as [string, string];
    const id = (await createFake(token)).body.integration.id;
    const otherId = (await createFake(otherToken)).body.integration.id;
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    heldPings = 0;
    pingResult = 'held';
    const run = (t: string, i: string) => api().post(`/api/integrations/${i}/test`).set('Authorization', `Bearer ${t}`).then((r) => r);
    const settled = new Set<Promise<unknown>>();
    const track = <T>(p: Promise<T>) => {
      void p.then(() => settled.add(p));
      return p;
    };
    try {
      const first = track(run(token, id));
      const second = track(run(token, id));
      await waitUntil(() => heldPings === 2);
      // Two tests wait on the vendor and none holds a pooled connection.
      expect((stack.appDb.client as { pool: { numUsed(): number } }).pool.numUsed()).toBe(0);
      const third = track(run(token, id));
      const elsewhere = track(run(otherToken, otherId));
      await waitUntil(() => settled.has(third) || heldPings > 3);
      expect(settled.has(third)).toBe(true);
      const busy = await third;
      expectError(busy, 429, 'too_many_connection_tests');
      expect(busy.body.error.details).toEqual({ limit: 2 });
      expect(busy.headers['retry-after']).toBe('1');
      // Another organisation's test is not held back by this one's.
      await waitUntil(() => heldPings === 3);
      open();
      for (const res of await Promise.all([first, second, elsewhere])) expect(res.body).toMatchObject({ ok: true });
      expect((await run(token, id)).body).toMatchObject({ ok: true });
    } finally {
      open();
      pingResult = 'ok';
    }
  });

  it('asks OAuth providers to go through their consent screen', async () => {
    expectError(await createFake(admin, { provider: 'fake-calendar', credentials: { accessToken: 'x' } }), 422, 'oauth_required');
  });

  describe('OAuth', () => {
    /** The consent's state, and the browser-binding cookie the start set (the callback needs both). */
    async function startConsent(token = admin): Promise<{ state: string; cookie: string }> {
      const res = await api().get('/api/integrations/oauth/fake-calendar/start?response=json').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
      const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
      return { state: new URL(res.body.authorize_url).searchParams.get('state')!, cookie };
    }

    it('redirects to the consent screen with an org-bound state and a callback on our public URL', async () => {
      const res = await api().get('/api/integrations/oauth/fake-calendar/start').set('Authorization', `Bearer ${admin}`);
      expect(res.status).toBe(302);
      const url = new URL(res.headers.location!);
      expect(url.origin).toBe('https://consent.example.invalid');
      expect(url.searchParams.get('redirect_uri')).toBe('http://tourhub.test/api/integrations/oauth/fake-calendar/callback');
    });

    it('stores the exchanged tokens encrypted on the callback', async () => {
      const fresh = await createOrg(stack.ownerDb);
      const token = await tokenFor(stack, { orgId: fresh.orgId, userId: fresh.adminId, role: 'admin' });
      const { state, cookie } = await startConsent(token);
      const res = await api().get(`/api/integrations/oauth/fake-calendar/callback?code=good-code&state=${encodeURIComponent(state)}&scope=x`).set('Cookie', cookie);
      expect(res.status).toBe(201);
      expect(res.body.integration).toMatchObject({ provider: 'fake-calendar', is_active: true, settings: { calendarId: 'primary' } });
      const raw = await stack.ownerDb.raw(`select credentials::text as t from organization_integrations where organization_id = ?`, [fresh.orgId]);
      expect(raw.rows[0].t).not.toContain('access-token-from-exchange');
      expect(raw.rows[0].t).not.toContain('refresh-token-from-exchange');
    });

    it('rejects a tampered state', async () => {
      const { state } = await startConsent();
      const [h, p, s] = state.split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, org: crypto.randomUUID() })).toString('base64url')}.${s}`;
      expectError(await api().get(`/api/integrations/oauth/fake-calendar/callback?code=good-code&state=${forged}`), 400, 'invalid_oauth_state');
      expectError(await api().get(`/api/integrations/oauth/fake-calendar/callback?code=good-code&state=garbage`), 400, 'invalid_oauth_state');
    });

    it('rejects an expired state', async () => {
      const key = testSecretBox().deriveKey('oauth-state');
      const past = Math.floor(Date.now() / 1000) - 3600;
      const expired = await new SignJWT({ org: org.orgId, provider: 'fake-calendar' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(org.adminId)
        .setJti(crypto.randomUUID())
        .setAudience('oauth-state')
        .setIssuedAt(past - 600)
        .setExpirationTime(past)
        .sign(key);
      const res = await api().get(`/api/integrations/oauth/fake-calendar/callback?code=good-code&state=${expired}`);
      expectError(res, 400, 'invalid_oauth_state');
      expect(res.body.error.message).toMatch(/expired/);
    });

    it('rejects a state issued for another provider, a denied consent and a refused code', async () => {
      const { state, cookie } = await startConsent();
      expectError(await api().get(`/api/integrations/oauth/fake-crm/callback?code=c&state=${state}`).set('Cookie', cookie), 422, 'oauth_not_configured');
      expectError(await api().get(`/api/integrations/oauth/fake-calendar/callback?error=access_denied&state=${state}`).set('Cookie', cookie), 400, 'oauth_denied');
      // Each consent's state works once: a new consent for the refused code.
      const second = await startConsent();
      expectError(await api().get(`/api/integrations/oauth/fake-calendar/callback?code=bad-code&state=${second.state}`).set('Cookie', second.cookie), 400, 'oauth_exchange_failed');
    });

    it('refuses to start a consent for a non-admin or an unconfigured provider', async () => {
      const member = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
      expectError(await api().get('/api/integrations/oauth/fake-calendar/start').set('Authorization', `Bearer ${member}`), 403, 'admin_required');
      expectError(await api().get('/api/integrations/oauth/fake-crm/start').set('Authorization', `Bearer ${admin}`), 422, 'not_oauth_provider');
    });
  });
});
