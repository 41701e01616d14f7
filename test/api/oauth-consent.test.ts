import crypto from 'node:crypto';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { createTokenVerifier } from '../../api/middleware/auth';
import { createRegistry } from '../../connectors/registry';
import { withTenant } from '../../db/tenant';
import type { OAuthClient } from '../../connectors/oauth';
import { TEST_JWT_SECRET } from '../support/constants';
import { fakeCalendar, testOutbound } from '../support/connectors';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { startStack, testSecretBox, tokenFor, type Stack } from '../support/stack';

// Issue 10, item 7: a consent's state is single-use, bound to the browser of the admin who started it
// (a cookie), carries PKCE (S256), and neither the code nor the state reaches the logs.


/** What the provider's side saw: the challenge at consent, the verifier at the exchange. */
const seen: { challenges: string[]; exchanges: { code: string; codeVerifier: string | undefined }[] } = { challenges: [], exchanges: [] };
const oauth = {
  authorizeUrl(opts: { state: string; redirectUri: string; codeChallenge?: string }) {
    if (opts.codeChallenge) seen.challenges.push(opts.codeChallenge);
    const url = new URL('https://consent.example.invalid/auth');
    url.search = new URLSearchParams({ state: opts.state, redirect_uri: opts.redirectUri, ...(opts.codeChallenge ? { code_challenge: opts.codeChallenge, code_challenge_method: 'S256' } : {}) }).toString();
    return url.toString();
  },
  async exchangeCode(opts: { code: string; redirectUri: string; codeVerifier?: string }) {
    seen.exchanges.push({ code: opts.code, codeVerifier: opts.codeVerifier });
    return { accessToken: `access-for-${opts.code}`, refreshToken: 'refresh', expiresAt: Date.now() + 3600_000 };
  },
  refreshGrant: async () => ({ accessToken: 'refreshed' }),
} as OAuthClient;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ worker: false, registry: createRegistry([fakeCalendar]), oauthClients: { 'fake-calendar': oauth } });
});

afterAll(async () => {
  await stack.close();
});

const CALLBACK = '/api/integrations/oauth/fake-calendar/callback';

function expectError(res: request.Response, status: number, code: string) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
}

/** Starts a consent as the organisation's admin: the state in the consent URL, and the cookie our answer set. */
async function startConsent(org: OrgFixture, app = stack.app) {
  const admin = await tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });
  const res = await request(app).get('/api/integrations/oauth/fake-calendar/start?response=json').set('Authorization', `Bearer ${admin}`);
  expect(res.status).toBe(200);
  const url = new URL(res.body.authorize_url);
  const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const cookie = setCookie.map((c) => c.split(';')[0]!).join('; ');
  return { state: url.searchParams.get('state')!, url, setCookie, cookie };
}

function callback(query: Record<string, string>, cookie?: string, app = stack.app) {
  const req = request(app).get(`${CALLBACK}?${new URLSearchParams(query).toString()}`);
  return cookie ? req.set('Cookie', cookie) : req;
}

describe('OAuth consent', () => {
  it('refuses a state used once already with 400 invalid_oauth_state', async () => {
    const org = await createOrg(stack.ownerDb);
    const { state, cookie } = await startConsent(org);
    const first = await callback({ code: 'code-1', state }, cookie);
    expect(first.status).toBe(201);
    const reused = await callback({ code: 'code-2', state }, cookie);
    expectError(reused, 400, 'invalid_oauth_state');
    expect(reused.body.error.details).toMatchObject({ reason: 'already_used' });
    // The second code was never exchanged, and the stored tokens are the first ones.
    expect(seen.exchanges.map((e) => e.code)).not.toContain('code-2');
  });

  it("binds the state to the admin's browser: a callback without the cookie, or with another browser's, is refused and the state stays usable", async () => {
    const org = await createOrg(stack.ownerDb);
    const { state, cookie } = await startConsent(org);
    const other = await startConsent(await createOrg(stack.ownerDb));
    expectError(await callback({ code: 'c', state }), 400, 'invalid_oauth_state');
    const mismatched = await callback({ code: 'c', state }, other.cookie);
    expectError(mismatched, 400, 'invalid_oauth_state');
    expect(mismatched.body.error.details).toMatchObject({ reason: 'browser_mismatch' });
    expect((await callback({ code: 'c', state }, cookie)).status).toBe(201);
  });

  it('sets the binding cookie HttpOnly, SameSite=Lax, limited to the callback path, Secure when the public URL is https', async () => {
    const { setCookie } = await startConsent(await createOrg(stack.ownerDb));
    expect(setCookie).toHaveLength(1);
    const attributes = setCookie[0]!.split(';').map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', `path=${CALLBACK}`, 'max-age=600']));
    expect(attributes).not.toContain('secure'); // http://tourhub.test

    const https = appWith({ publicUrl: 'https://tourhub.example' });
    const admin = await adminOf(await createOrg(stack.ownerDb));
    const res = await request(https).get('/api/integrations/oauth/fake-calendar/start?response=json').set('Authorization', `Bearer ${admin}`);
    expect(res.status).toBe(200);
    expect(String(res.headers['set-cookie']).toLowerCase()).toContain('secure');
  });

  it('sends an S256 code challenge at consent and its verifier in the exchange', async () => {
    const { state, cookie, url } = await startConsent(await createOrg(stack.ownerDb));
    const challenge = url.searchParams.get('code_challenge');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await callback({ code: 'pkce-code', state }, cookie)).status).toBe(201);
    const exchange = seen.exchanges.find((e) => e.code === 'pkce-code')!;
    expect(exchange.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(crypto.createHash('sha256').update(exchange.codeVerifier!).digest('base64url')).toBe(challenge);
    // The verifier went to the provider's token endpoint, never into the browser's URL.
    expect(url.toString()).not.toContain(exchange.codeVerifier!);
  });

  it('consumes a state the admin refused at the consent screen', async () => {
    const { state, cookie } = await startConsent(await createOrg(stack.ownerDb));
    expectError(await callback({ error: 'access_denied', state }, cookie), 400, 'oauth_denied');
    expectError(await callback({ code: 'late', state }, cookie), 400, 'invalid_oauth_state');
  });

  it('refuses the callback of an admin who is no longer one', async () => {
    const org = await createOrg(stack.ownerDb);
    const { state, cookie } = await startConsent(org);
    await stack.ownerDb('organization_members').where({ organization_id: org.orgId, user_id: org.adminId }).update({ role: 'member' });
    // Another API process: this one may trust the admin role for MEMBERSHIP_CACHE_TTL.
    const fresh = appWith({});
    expectError(await callback({ code: 'c', state }, cookie, fresh), 403, 'admin_required');
  });

  it('keeps a consent to the admin who started it: another admin, a member, another organisation see nothing', async () => {
    const org = await createOrg(stack.ownerDb);
    await startConsent(org);
    const secondAdmin = crypto.randomUUID();
    await stack.ownerDb('organization_members').insert({ organization_id: org.orgId, user_id: secondAdmin, role: 'admin' });
    const visible = (tenant: { orgId: string; userId: string; role: 'admin' | 'member' }) => withTenant(stack.appDb, tenant, (trx) => trx('oauth_states').count({ n: '*' }));
    expect(await visible({ orgId: org.orgId, userId: org.adminId, role: 'admin' })).toEqual([{ n: 1 }]);
    expect(await visible({ orgId: org.orgId, userId: secondAdmin, role: 'admin' })).toEqual([{ n: 0 }]);
    expect(await visible({ orgId: org.orgId, userId: org.adminId, role: 'member' })).toEqual([{ n: 0 }]);
    const other = await createOrg(stack.ownerDb);
    expect(await visible({ orgId: other.orgId, userId: org.adminId, role: 'admin' })).toEqual([{ n: 0 }]);
  });

  it('logs the callback without its code or state', async () => {
    const lines: string[] = [];
    const out = new PassThrough();
    out.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    const app = appWith({ logger: pino({ level: 'info' }, out) });
    const org = await createOrg(stack.ownerDb);
    const { state, cookie } = await startConsent(org, app);
    const code = `4/0Ab-secret-code-${crypto.randomUUID()}`;
    expect((await callback({ code, state, scope: 'calendar' }, cookie, app)).status).toBe(201);
    expectError(await callback({ code, state }, cookie, app), 400, 'invalid_oauth_state');
    await new Promise((r) => setImmediate(r));
    const logged = lines.join('');
    expect(logged).toContain(CALLBACK);
    expect(logged).not.toContain(code);
    expect(logged).not.toContain(state);
    expect(logged).not.toContain(encodeURIComponent(state));
  });
});

/** Another API process over the same database, with a public URL or a logger of its own. */
function appWith(opts: { publicUrl?: string; logger?: pino.Logger }) {
  return createApp({
    db: stack.appDb,
    tours: stack.tours,
    replays: stack.replays,
    verifier: createTokenVerifier({ secret: TEST_JWT_SECRET, issuer: stack.config.jwt.issuer, audience: stack.config.jwt.audience }),
    logger: opts.logger ?? pino({ level: 'silent' }),
    rateLimits: stack.config.rateLimits,
    ...stack.lifecycle,
    integrations: {
      box: testSecretBox(),
      registry: createRegistry([fakeCalendar]),
      oauthClients: { 'fake-calendar': oauth },
      publicUrl: opts.publicUrl ?? 'http://tourhub.test',
      connectorTimeoutMs: 2000,
      outbound: testOutbound(),
    },
  });
}

function adminOf(org: OrgFixture): Promise<string> {
  return tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });
}
