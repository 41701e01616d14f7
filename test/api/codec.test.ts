import crypto from 'node:crypto';
import request from 'supertest';
import { createCodecService } from '../../services/payload-codec';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { startStack, testSecretBox, tokenFor, type Stack } from '../support/stack';

const UI = 'http://localhost:8233';
const person = { email: 'jane.doe@example.com', phone: '+15551234567', name: 'Jane Doe' };
const jsonPayload = (value: unknown) => ({
  metadata: { encoding: Buffer.from('json/plain').toString('base64') },
  data: Buffer.from(JSON.stringify(value)).toString('base64'),
});
const valueOf = (p: { data: string }) => JSON.parse(Buffer.from(p.data, 'base64').toString());

/** What the workers send to Temporal: sealed with the same test keyring the stack's API holds. */
const workers = createCodecService(testSecretBox());

let stack: Stack;
let org: OrgFixture;
let admin: string;
let member: string;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  org = await createOrg(stack.ownerDb);
  admin = await tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });
  member = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
});

afterAll(async () => {
  await stack.close();
});

const api = () => request(stack.app);

describe('the codec endpoint of the Temporal Web UI', () => {
  it('decrypts what the workers sealed for an admin, and passes plain payloads through', async () => {
    const sealed = await workers.encode([jsonPayload(person)]);
    expect(Buffer.from(sealed[0]!.data, 'base64').toString('latin1')).not.toContain(person.email);
    const plain = jsonPayload({ status: 'completed' });
    const res = await api().post('/codec/decode').set('Authorization', `Bearer ${admin}`).set('X-Namespace', 'default').send({ payloads: [...sealed, plain] });
    expect(res.status).toBe(200);
    expect(res.body.payloads.map(valueOf)).toEqual([person, { status: 'completed' }]);
    expect(res.body.payloads[0].metadata).toEqual(plain.metadata);
  });

  it('encrypts with the active key, and what it encrypts decrypts', async () => {
    const encoded = await api().post('/codec/encode').set('Authorization', `Bearer ${admin}`).send({ payloads: [jsonPayload(person)] });
    expect(encoded.status).toBe(200);
    const [payload] = encoded.body.payloads;
    expect(Buffer.from(payload.metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(payload.metadata['encryption-key-id'], 'base64').toString()).toBe('k1');
    const decoded = await api().post('/codec/decode').set('Authorization', `Bearer ${admin}`).send(encoded.body);
    expect(decoded.body.payloads.map(valueOf)).toEqual([person]);
  });

  it('takes a whole history at once: past the 64 kB limit of the other routes', async () => {
    const big = await workers.encode([jsonPayload({ notes: 'x'.repeat(300_000) })]);
    const res = await api().post('/codec/decode').set('Authorization', `Bearer ${admin}`).send({ payloads: big });
    expect(res.status).toBe(200);
    expect(valueOf(res.body.payloads[0]).notes).toHaveLength(300_000);
  });

  it('refuses members and requests without a token or a session', async () => {
    const sealed = await workers.encode([jsonPayload(person)]);
    const asMember = await api().post('/codec/decode').set('Authorization', `Bearer ${member}`).send({ payloads: sealed });
    expect({ status: asMember.status, code: asMember.body.error.code }).toEqual({ status: 403, code: 'admin_required' });
    const anonymous = await api().post('/codec/decode').send({ payloads: sealed });
    expect({ status: anonymous.status, code: anonymous.body.error.code }).toEqual({ status: 401, code: 'missing_token' });
    const forged = await api().post('/codec/decode').set('Cookie', 'tourhub_codec=not-a-session').send({ payloads: sealed });
    expect({ status: forged.status, code: forged.body.error.code }).toEqual({ status: 401, code: 'invalid_token' });
    for (const res of [asMember, anonymous, forged]) expect(JSON.stringify(res.body)).not.toContain(person.email);
  });

  it('refuses a payload it cannot decrypt, naming its key id, and bytes that are not base64', async () => {
    const stranger = createCodecService(testSecretBox(`gone:${crypto.randomBytes(32).toString('base64')}`, 'gone'));
    const res = await api().post('/codec/decode').set('Authorization', `Bearer ${admin}`).send({ payloads: await stranger.encode([jsonPayload(person)]) });
    expect({ status: res.status, code: res.body.error.code, key: res.body.error.details.key_id }).toEqual({ status: 422, code: 'payload_not_decodable', key: 'gone' });
    const bad = await api().post('/codec/decode').set('Authorization', `Bearer ${admin}`).send({ payloads: [{ data: 'not base64!' }] });
    expect({ status: bad.status, code: bad.body.error.code }).toEqual({ status: 400, code: 'validation_error' });
  });

  it("answers the UI's preflight with its origin, credentials and headers, and refuses other origins", async () => {
    const preflight = await api().options('/codec/decode').set('Origin', UI).set('Access-Control-Request-Method', 'POST').set('Access-Control-Request-Headers', 'content-type,x-namespace');
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': UI,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': 'Authorization, Content-Type, X-Namespace',
    });
    const sealed = await workers.encode([jsonPayload(person)]);
    const fromUi = await api().post('/codec/decode').set('Origin', UI).set('Authorization', `Bearer ${admin}`).send({ payloads: sealed });
    expect(fromUi.status).toBe(200);
    expect(fromUi.headers['access-control-allow-origin']).toBe(UI);

    const evil = 'https://evil.example';
    const evilPreflight = await api().options('/codec/decode').set('Origin', evil).set('Access-Control-Request-Method', 'POST');
    expect(evilPreflight.headers['access-control-allow-origin']).toBeUndefined();
    const fromEvil = await api().post('/codec/decode').set('Origin', evil).set('Authorization', `Bearer ${admin}`).send({ payloads: sealed });
    expect({ status: fromEvil.status, code: fromEvil.body.error.code }).toEqual({ status: 403, code: 'origin_not_allowed' });
    expect(fromEvil.headers['access-control-allow-origin']).toBeUndefined();
    expect(JSON.stringify(fromEvil.body)).not.toContain(person.email);
  });

  it('starts a browser session from an admin token, whose cookie alone then decodes, until it is ended', async () => {
    const page = await api().get('/codec/session');
    expect(page.status).toBe(200);
    expect(page.text).toContain('/codec/session.js');
    expect((await api().get('/codec/session.js')).status).toBe(200);

    expect((await api().post('/codec/session').set('Authorization', `Bearer ${member}`)).status).toBe(403);
    const started = await api().post('/codec/session').set('Authorization', `Bearer ${admin}`);
    expect(started.status).toBe(204);
    const setCookie = String(started.headers['set-cookie']);
    expect(setCookie).toMatch(/^tourhub_codec=[\w-]+\.[\w-]+\.[\w-]+; Max-Age=28800; Path=\/codec; Expires=[^;]+ GMT; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain(admin); // a session of its own, not the bearer token

    const cookie = setCookie.split(';')[0]!;
    const sealed = await workers.encode([jsonPayload(person)]);
    const viaCookie = await api().post('/codec/decode').set('Origin', UI).set('Cookie', cookie).send({ payloads: sealed });
    expect(viaCookie.status).toBe(200);
    expect(viaCookie.body.payloads.map(valueOf)).toEqual([person]);
    // The session is for the codec only: the API's routes take bearer tokens, never this cookie.
    expect((await api().get('/api/tours').set('Cookie', cookie)).status).toBe(401);

    const ended = await api().delete('/codec/session');
    expect(ended.status).toBe(204);
    expect(String(ended.headers['set-cookie'])).toMatch(/^tourhub_codec=; Max-Age=0; Path=\/codec/);
  });

  it('takes the role from membership, for a token and a session alike: a non-member is refused, a demoted admin\'s session stops', async () => {
    const fresh = await startStack({ worker: false, config: { MEMBERSHIP_CACHE_TTL: '0' } });
    try {
      const sealed = await workers.encode([jsonPayload(person)]);
      const stranger = await tokenFor(fresh, { orgId: org.orgId, userId: crypto.randomUUID() }, { membership: 'as-is' });
      const refused = await request(fresh.app).post('/codec/decode').set('Authorization', `Bearer ${stranger}`).send({ payloads: sealed });
      expect({ status: refused.status, code: refused.body.error.code }).toEqual({ status: 403, code: 'not_a_member' });

      const userId = crypto.randomUUID();
      const token = await tokenFor(fresh, { orgId: org.orgId, userId, role: 'admin' });
      const started = await request(fresh.app).post('/codec/session').set('Authorization', `Bearer ${token}`);
      expect(started.status).toBe(204);
      const cookie = String(started.headers['set-cookie']).split(';')[0]!;
      const decode = () => request(fresh.app).post('/codec/decode').set('Origin', UI).set('Cookie', cookie).send({ payloads: sealed });
      expect((await decode()).status).toBe(200);
      await fresh.ownerDb('organization_members').where({ organization_id: org.orgId, user_id: userId }).update({ role: 'member' });
      const demoted = await decode();
      expect({ status: demoted.status, code: demoted.body.error.code }).toEqual({ status: 403, code: 'admin_required' });
      await fresh.ownerDb('organization_members').where({ organization_id: org.orgId, user_id: userId }).delete();
      const removed = await decode();
      expect({ status: removed.status, code: removed.body.error.code }).toEqual({ status: 403, code: 'not_a_member' });
    } finally {
      await fresh.close();
    }
  });

  it('lets only the operators organisation in when CODEC_ADMIN_ORG_ID is set', async () => {
    const other = await createOrg(stack.ownerDb);
    const restricted = await startStack({ worker: false, config: { CODEC_ADMIN_ORG_ID: org.orgId } });
    try {
      const sealed = await workers.encode([jsonPayload(person)]);
      const operators = await request(restricted.app).post('/codec/decode').set('Authorization', `Bearer ${admin}`).send({ payloads: sealed });
      expect(operators.status).toBe(200);
      const otherAdmin = await tokenFor(restricted, { orgId: other.orgId, userId: other.adminId, role: 'admin' });
      const refused = await request(restricted.app).post('/codec/decode').set('Authorization', `Bearer ${otherAdmin}`).send({ payloads: sealed });
      expect({ status: refused.status, code: refused.body.error.code }).toEqual({ status: 403, code: 'admin_required' });
      const noSession = await request(restricted.app).post('/codec/session').set('Authorization', `Bearer ${otherAdmin}`);
      expect(noSession.status).toBe(403);
    } finally {
      await restricted.close();
    }
  });

  it('is listed in the OpenAPI document', async () => {
    const doc = (await api().get('/api/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/codec/decode', '/codec/encode', '/codec/session']));
    expect(doc.paths['/codec/decode'].post.responses['422']).toBeDefined();
  });
});
