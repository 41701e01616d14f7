import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import request from 'supertest';
import { openApiDocument } from '../../api/app';
import { ApiError } from '../../api/middleware/errors';
import { createTokenVerifier } from '../../api/middleware/auth';
import { createMembershipResolver } from '../../services/memberships';
import { TEST_JWT_SECRET } from '../support/constants';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { startStack, tokenFor, type Stack } from '../support/stack';

// Issue 10, item 6: a token names the user and the organisation; whether they belong there, and as
// what, is the organisation's to say (organization_members). Tokens expire, and each key verifies
// only the algorithms meant for it.

let stack: Stack;
let org: OrgFixture;

beforeAll(async () => {
  stack = await startStack();
  org = await createOrg(stack.ownerDb);
});

afterAll(async () => {
  await stack.close();
});

const api = () => request(stack.app);
const ISSUER = 'tourhub';
const AUDIENCE = 'tourhub-api';
const secret = new TextEncoder().encode(TEST_JWT_SECRET);

function expectError(res: request.Response, status: number, code: string) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.details).toBeDefined();
}

/** A token made by hand, to say what `tokenFor` never would (a role claim, no exp, another algorithm). */
function handMade(claims: Record<string, unknown>, opts: { sub: string; exp?: boolean; alg?: string } ) {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? 'HS256' }).setSubject(opts.sub).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt();
  if (opts.exp !== false) jwt.setExpirationTime('1h');
  return jwt.sign(secret);
}

describe('identity from the organisation', () => {
  it('answers a token for someone who is not a member with 403 not_a_member, and changes nothing', async () => {
    const stranger = crypto.randomUUID();
    const token = await tokenFor(stack, { orgId: org.orgId, userId: stranger }, { membership: 'as-is' });
    const auth = { Authorization: `Bearer ${token}` };
    const listed = await api().get('/api/tours').set(auth);
    expectError(listed, 403, 'not_a_member');
    expect(listed.body.error.details).toEqual({ organization_id: org.orgId });
    expectError(await api().post(`/api/tours/${org.tourId}/start`).set(auth).send({}), 403, 'not_a_member');
    expectError(await api().get('/api/integrations').set(auth), 403, 'not_a_member');
    expectError(await api().get('/api/no-such-route').set(auth), 403, 'not_a_member');
    expect(await stack.ownerDb('user_tour_progress').where({ user_id: stranger }).count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it("ignores the token's role claim: a member claiming admin is still a member, an admin claiming member still an admin", async () => {
    const member = await handMade({ org: org.orgId, role: 'admin' }, { sub: org.memberId });
    expectError(await api().get('/api/integrations').set('Authorization', `Bearer ${member}`), 403, 'admin_required');
    const admin = await handMade({ org: org.orgId, role: 'member' }, { sub: org.adminId });
    expect((await api().get('/api/integrations').set('Authorization', `Bearer ${admin}`)).status).toBe(200);
  });

  it("takes a member's access from the organisation: removed, they are refused", async () => {
    const fresh = await createOrg(stack.ownerDb);
    const token = await tokenFor(stack, { orgId: fresh.orgId, userId: fresh.otherMemberId });
    expect((await api().get('/api/tours').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    await stack.ownerDb('organization_members').where({ organization_id: fresh.orgId, user_id: fresh.otherMemberId }).delete();
    // This process trusted the membership for MEMBERSHIP_CACHE_TTL; a process that has not seen it asks Postgres.
    const other = await startStack({ worker: false, config: {} });
    try {
      expectError(await request(other.app).get('/api/tours').set('Authorization', `Bearer ${token}`), 403, 'not_a_member');
    } finally {
      await other.close();
    }
  });

  it('refuses a token without exp: it would never expire', async () => {
    const forever = await handMade({ org: org.orgId }, { sub: org.memberId, exp: false });
    const res = await api().get('/api/tours').set('Authorization', `Bearer ${forever}`);
    expectError(res, 401, 'invalid_token');
    expect(res.body.error.details).toMatchObject({ claim: 'exp' });
  });

  it('verifies a shared secret with HS256 only: not HS512, not an unsigned token', async () => {
    const hs512 = await handMade({ org: org.orgId }, { sub: org.memberId, alg: 'HS512' });
    expectError(await api().get('/api/tours').set('Authorization', `Bearer ${hs512}`), 401, 'invalid_token');
    const unsigned = new UnsecuredJWT({ org: org.orgId }).setSubject(org.memberId).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('1h').encode();
    expectError(await api().get('/api/tours').set('Authorization', `Bearer ${unsigned}`), 401, 'invalid_token');
  });

  it('lists not_a_member among the 403s of every authenticated operation in the OpenAPI document', () => {
    const operations = Object.entries(openApiDocument().paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, { security: unknown[]; responses: Record<string, { content: { 'application/json': { schema: { allOf: [unknown, { properties: { error: { properties: { code: { enum: string[] } } } } }] } } } }> }>).map(
        ([method, op]) => ({ name: `${method} ${path}`, op }),
      ),
    );
    const authenticated = operations.filter((o) => o.op.security.length > 0);
    expect(authenticated.length).toBeGreaterThan(10);
    for (const { name, op } of authenticated) {
      const codes = op.responses['403']?.content['application/json'].schema.allOf[1].properties.error.properties.code.enum ?? [];
      expect({ name, listed: codes.includes('not_a_member') }).toEqual({ name, listed: true });
    }
  });
});

describe('the JWKS path', () => {
  let server: http.Server;
  let jwksUrl: string;
  let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
  let ec: Awaited<ReturnType<typeof generateKeyPair>>;

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256');
    ec = await generateKeyPair('ES256');
    const keys = [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec', use: 'sig' },
      // A symmetric key in the set: a token "signed" with it must still be refused (asymmetric algorithms only).
      { kty: 'oct', k: Buffer.from(TEST_JWT_SECRET).toString('base64url'), kid: 'oct' },
    ];
    server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const sign = (alg: string, kid: string, key: Parameters<SignJWT['sign']>[0], exp = true) => {
    const jwt = new SignJWT({ org: org.orgId }).setProtectedHeader({ alg, kid }).setSubject(org.memberId.toUpperCase()).setIssuer(ISSUER).setAudience(AUDIENCE);
    return (exp ? jwt.setExpirationTime('1h') : jwt).sign(key);
  };

  async function refusal(token: string): Promise<string> {
    const verifier = createTokenVerifier({ jwksUrl, issuer: ISSUER, audience: AUDIENCE });
    try {
      await verifier.verify(token);
      return 'verified';
    } catch (err) {
      return err instanceof ApiError ? err.code : String(err);
    }
  }

  it('verifies RS256 and ES256 tokens from the key set, with canonical ids', async () => {
    const verifier = createTokenVerifier({ jwksUrl, issuer: ISSUER, audience: AUDIENCE });
    for (const token of [await sign('RS256', 'rsa', rsa.privateKey), await sign('ES256', 'ec', ec.privateKey)]) {
      expect(await verifier.verify(token)).toMatchObject({ orgId: org.orgId, userId: org.memberId });
    }
  });

  it('refuses a symmetric algorithm, even with a key the set holds, and a token without exp', async () => {
    expect(await refusal(await sign('HS256', 'oct', secret))).toBe('invalid_token');
    expect(await refusal(await sign('RS256', 'rsa', rsa.privateKey, false))).toBe('invalid_token');
  });
});

describe('the membership cache', () => {
  it('trusts a found membership for its TTL, then asks Postgres again; a non-member is never remembered', async () => {
    const fresh = await createOrg(stack.ownerDb);
    let now = 1_000_000;
    const members = createMembershipResolver({ db: stack.appDb, ttlMs: 30_000, now: () => now });
    const identity = { orgId: fresh.orgId, userId: fresh.memberId, claims: {} };
    expect(await members.resolve(identity)).toEqual({ ok: true, value: { orgId: fresh.orgId, userId: fresh.memberId, role: 'member' } });

    await stack.ownerDb('organization_members').where({ organization_id: fresh.orgId, user_id: fresh.memberId }).update({ role: 'admin' });
    now += 29_000;
    expect(await members.resolve(identity)).toMatchObject({ ok: true, value: { role: 'member' } });
    now += 2_000;
    expect(await members.resolve(identity)).toMatchObject({ ok: true, value: { role: 'admin' } });

    const stranger = { orgId: fresh.orgId, userId: crypto.randomUUID(), claims: {} };
    expect(await members.resolve(stranger)).toMatchObject({ ok: false, refusal: { code: 'not_a_member' } });
    await stack.ownerDb('organization_members').insert({ organization_id: fresh.orgId, user_id: stranger.userId, role: 'member' });
    expect(await members.resolve(stranger)).toMatchObject({ ok: true, value: { role: 'member' } });
  });

  it("adds no query to a member's progress PUTs once their membership and the run's version are known: one transaction each", async () => {
    const fresh = await createOrg(stack.ownerDb);
    const token = await tokenFor(stack, { orgId: fresh.orgId, userId: fresh.memberId });
    const auth = { Authorization: `Bearer ${token}` };
    const started = await api().post(`/api/tours/${fresh.tourId}/start`).set(auth).send({});
    expect(started.status).toBe(201);
    const queries: string[] = [];
    const record = (q: { sql: string }) => queries.push(q.sql);
    stack.appDb.on('query', record);
    try {
      for (const action of ['next_step', 'previous_step', 'next_step']) {
        expect((await api().put(`/api/tours/progress/${started.body.progress_id}`).set(auth).send({ action })).status).toBe(200);
      }
    } finally {
      stack.appDb.off('query', record);
    }
    expect(queries.filter((q) => q.includes('organization_members'))).toEqual([]);
    // The run's version and steps come from memory: no read of them, and no transaction opened for one.
    expect(queries.filter((q) => q.includes('tour_versions'))).toEqual([]);
    expect(queries.filter((q) => q === 'BEGIN;')).toHaveLength(3);
  });

  it('asks Postgres once for concurrent requests of one member', async () => {
    const fresh = await createOrg(stack.ownerDb);
    const queries: string[] = [];
    const record = (q: { sql: string }) => queries.push(q.sql);
    stack.appDb.on('query', record);
    try {
      const members = createMembershipResolver({ db: stack.appDb, ttlMs: 30_000 });
      const identity = { orgId: fresh.orgId, userId: fresh.memberId, claims: {} };
      await Promise.all(Array.from({ length: 10 }, () => members.resolve(identity)));
      await members.resolve(identity);
    } finally {
      stack.appDb.off('query', record);
    }
    expect(queries.filter((q) => q.includes('organization_members'))).toHaveLength(1);
  });
});
