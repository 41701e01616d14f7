import { useNock } from '../../support/nock';
import { createHmac } from 'node:crypto';
import nock from 'nock';
import { honeybook, credentialsSchema, settingsSchema } from '../../../connectors/crm/honeybook';
import { deliveryReference, resolveHookUrl } from '../../../connectors/crm/catch-hook/hook';
import { activityData, normalizeEmail, toHookPerson } from '../../../connectors/crm/honeybook/mapping';
import { computeSignature, signatureHeader, verifySignature } from '../../../connectors/crm/catch-hook/signature';
import type { Person } from '../../../connectors/contracts';
import { ConnectorError } from '../../../connectors/errors';
import { createOutboundGuard, vetDestination } from '../../../connectors/outbound';
import { context, memoryGuard } from '../../support/connectors';

const HOOK_ORIGIN = 'https://hooks.zapier.com';
const HOOK_PATH = '/hooks/catch/123456/abcdef/';
const SECRET = 'whsec_0123456789abcdef0123456789abcdef';
const NOW = Date.parse('2026-11-23T12:00:00Z');
const T = Math.floor(NOW / 1000);

const person: Person = { email: 'Ana.Lima@Example.com ', firstName: 'Ana', lastName: 'Lima', phone: '+15551234567', externalId: 'user_42', weddingDate: '2027-06-12' };
const hookPerson = {
  email: 'ana.lima@example.com',
  first_name: 'Ana',
  last_name: 'Lima',
  full_name: 'Ana Lima',
  phone: '+15551234567',
  external_id: 'user_42',
  wedding_date: '2027-06-12',
};
const ZAPIER_OK = { attempt: 'att-1', id: 'id-1', request_id: 'req-1', status: 'success' };

function setup(extra: { baseUrl?: string; timeoutMs?: number } = {}) {
  const guard = memoryGuard();
  const ctx = context(honeybook, { hookUrl: `${HOOK_ORIGIN}${HOOK_PATH}`, signingSecret: SECRET }, {}, {
    guard,
    now: () => NOW,
    ...(extra.baseUrl ? { baseUrl: extra.baseUrl } : {}),
    ...(extra.timeoutMs ? { timeoutMs: extra.timeoutMs } : {}),
  });
  return { guard, crm: honeybook.create(ctx) };
}

/** Independent of the connector's signature module: HMAC-SHA256 over "<t>.<raw body>". */
function expectedSignature(rawBody: string): string {
  return `t=${T},v1=${createHmac('sha256', SECRET).update(`${T}.${rawBody}`).digest('hex')}`;
}

/** Intercepts one POST to the hook, asserting the headers, and records the body it received. */
function expectHookPost(key: string, reply: unknown = ZAPIER_OK, origin = HOOK_ORIGIN) {
  const seen: { body?: Record<string, unknown>; headers?: Record<string, string | string[] | undefined> } = {};
  nock(origin)
    .post(HOOK_PATH, (body: Record<string, unknown>) => {
      seen.body = body;
      return true;
    })
    .matchHeader('content-type', 'application/json')
    .matchHeader('accept', 'application/json')
    .matchHeader('x-tourhub-idempotency-key', key)
    .reply(200, function () {
      seen.headers = this.req.headers;
      return reply;
    });
  return seen;
}

/** The signature header must sign exactly the bytes that were sent. */
function expectSigned(seen: { body?: Record<string, unknown>; headers?: Record<string, string | string[] | undefined> }) {
  expect(seen.headers?.['x-tourhub-signature']).toBe(expectedSignature(JSON.stringify(seen.body)));
}

useNock({ assertDone: true });

describe('HoneyBook connector (signed JSON to a Zapier/Make catch hook)', () => {
  it('upsertContact posts a signed upsertContact envelope and returns the normalised email as the contact id', async () => {
    const { crm, guard } = setup();
    const seen = expectHookPost('evt-1:crm:contact');
    await expect(crm.upsertContact(person, { idempotencyKey: 'evt-1:crm:contact' })).resolves.toEqual({ contactId: 'ana.lima@example.com' });
    expect(seen.body).toEqual({
      event: 'upsertContact',
      idempotency_key: 'evt-1:crm:contact',
      occurred_at: '2026-11-23T12:00:00.000Z',
      data: { contact_id: 'ana.lima@example.com', person: hookPerson },
    });
    expectSigned(seen);
    expect(guard.records.get('evt-1:crm:contact')).toEqual({ state: 'sent', reference: 'ana.lima@example.com' });
  });

  it('logActivity posts the activity with its own occurred_at and returns the hook request id', async () => {
    const { crm } = setup();
    const seen = expectHookPost('evt-2:crm:activity');
    const result = await crm.logActivity(
      {
        person,
        contactId: 'hb-client-9',
        type: 'tour_started',
        title: 'Started Dashboard Tour',
        description: 'User began onboarding tour: Welcome',
        occurredAt: '2026-11-23T11:58:00.000Z',
        metadata: { tour_id: 't1', progress_id: 'p1', source: 'tourhub' },
      },
      { idempotencyKey: 'evt-2:crm:activity' },
    );
    expect(result).toEqual({ activityId: 'request:req-1' });
    expect(seen.body).toEqual({
      event: 'logActivity',
      idempotency_key: 'evt-2:crm:activity',
      occurred_at: '2026-11-23T11:58:00.000Z',
      data: {
        contact_id: 'hb-client-9',
        person: hookPerson,
        type: 'tour_started',
        title: 'Started Dashboard Tour',
        description: 'User began onboarding tour: Welcome',
        occurred_at: '2026-11-23T11:58:00.000Z',
        metadata: { tour_id: 't1', progress_id: 'p1', source: 'tourhub' },
      },
    });
    expectSigned(seen);
  });

  it('createTask posts title, due date and priority', async () => {
    const { crm } = setup();
    const seen = expectHookPost('evt-3:crm:task');
    const result = await crm.createTask(
      { person, title: 'Follow up on abandoned tour', description: 'Abandoned at step 3', dueDate: '2026-11-25', priority: 'high' },
      { idempotencyKey: 'evt-3:crm:task' },
    );
    expect(result).toEqual({ taskId: 'request:req-1' });
    expect(seen.body).toEqual({
      event: 'createTask',
      idempotency_key: 'evt-3:crm:task',
      occurred_at: '2026-11-23T12:00:00.000Z',
      data: {
        contact_id: 'ana.lima@example.com',
        person: hookPerson,
        title: 'Follow up on abandoned tour',
        description: 'Abandoned at step 3',
        due_date: '2026-11-25',
        priority: 'high',
      },
    });
    expectSigned(seen);
  });

  it('setCustomFields posts the mapped fields as they are, nulls included', async () => {
    const { crm } = setup();
    const seen = expectHookPost('evt-4:crm:fields');
    await crm.setCustomFields(
      { person, fields: { tourhub_onboarding_completed: true, tourhub_tour_rating: 5, tourhub_onboarding_date: '2026-11-23', old_field: null } },
      { idempotencyKey: 'evt-4:crm:fields' },
    );
    expect(seen.body).toEqual({
      event: 'setCustomFields',
      idempotency_key: 'evt-4:crm:fields',
      occurred_at: '2026-11-23T12:00:00.000Z',
      data: {
        contact_id: 'ana.lima@example.com',
        person: hookPerson,
        fields: { tourhub_onboarding_completed: true, tourhub_tour_rating: 5, tourhub_onboarding_date: '2026-11-23', old_field: null },
      },
    });
    expectSigned(seen);
  });

  it('addNote posts the note body', async () => {
    const { crm } = setup();
    const seen = expectHookPost('evt-5:crm:note');
    const result = await crm.addNote({ person, body: 'Rating: 5/5\nFeedback: "lovely"' }, { idempotencyKey: 'evt-5:crm:note' });
    expect(result).toEqual({ noteId: 'request:req-1' });
    expect(seen.body).toEqual({
      event: 'addNote',
      idempotency_key: 'evt-5:crm:note',
      occurred_at: '2026-11-23T12:00:00.000Z',
      data: { contact_id: 'ana.lima@example.com', person: hookPerson, body: 'Rating: 5/5\nFeedback: "lovely"' },
    });
    expectSigned(seen);
  });

  it('ping posts a signed ping event with an empty payload and records nothing', async () => {
    const { crm, guard } = setup();
    const seen = expectHookPost(`ping:${T}`);
    await crm.ping();
    expect(seen.body).toEqual({ event: 'ping', idempotency_key: `ping:${T}`, occurred_at: '2026-11-23T12:00:00.000Z', data: {} });
    expectSigned(seen);
    expect(guard.records.size).toBe(0);
  });

  it('uses the idempotency key as the reference when the hook answers without an id (Make answers "Accepted")', async () => {
    const { crm } = setup();
    nock(HOOK_ORIGIN).post(HOOK_PATH).reply(200, 'Accepted', { 'content-type': 'text/plain' });
    await expect(crm.addNote({ person, body: 'hi' }, { idempotencyKey: 'k-make' })).resolves.toEqual({ noteId: 'key:k-make' });
  });

  it('posts to the deployment’s loopback base URL for honeybook, keeping the hook path', async () => {
    const { crm } = setup({ baseUrl: 'http://127.0.0.1:4010' });
    expectHookPost('k-loop', ZAPIER_OK, 'http://127.0.0.1:4010');
    await expect(crm.addNote({ person, body: 'hi' }, { idempotencyKey: 'k-loop' })).resolves.toEqual({ noteId: 'request:req-1' });
  });

  describe('delivery guard', () => {
    it('makes no HTTP call for a key already sent, and returns the recorded reference', async () => {
      const { crm, guard } = setup();
      expectHookPost('k-once');
      const first = await crm.logActivity(
        { person, type: 'tour_completed', title: 'Completed', description: 'done', occurredAt: '2026-11-23T11:00:00Z' },
        { idempotencyKey: 'k-once' },
      );
      // No interceptor is left: a second HTTP call would fail the test.
      const second = await crm.logActivity(
        { person, type: 'tour_completed', title: 'Completed', description: 'done', occurredAt: '2026-11-23T11:00:00Z' },
        { idempotencyKey: 'k-once' },
      );
      expect(second).toEqual(first);
      expect(guard.records.get('k-once')).toEqual({ state: 'sent', reference: 'request:req-1' });
    });

    it('retries a key whose earlier attempt is only recorded as attempted, then marks it sent', async () => {
      const { crm, guard } = setup();
      await guard.markAttempted('k-crashed');
      const seen = expectHookPost('k-crashed');
      await expect(crm.createTask({ person, title: 'Call', dueDate: '2026-11-30', priority: 'normal' }, { idempotencyKey: 'k-crashed' })).resolves.toEqual({
        taskId: 'request:req-1',
      });
      expect(seen.body?.idempotency_key).toBe('k-crashed');
      expect(guard.records.get('k-crashed')).toEqual({ state: 'sent', reference: 'request:req-1' });
    });

    it('returns the recorded contact id for a contact upsert already sent', async () => {
      const { crm, guard } = setup();
      await guard.markSent('k-contact', 'ana.lima@example.com');
      await expect(crm.upsertContact(person, { idempotencyKey: 'k-contact' })).resolves.toEqual({ contactId: 'ana.lima@example.com' });
    });
  });

  describe('errors', () => {
    const activity = { person, type: 'tour_started', title: 'Started', description: 'x', occurredAt: '2026-11-23T11:00:00Z' };

    it.each([
      [400, {}, { code: 'bad_request', retryable: false }],
      [401, {}, { code: 'unauthorized', retryable: false }],
      [404, {}, { code: 'not_found', retryable: false }],
      [429, { 'Retry-After': '30' }, { code: 'rate_limited', retryable: true, retryAfterMs: 30_000 }],
      [500, {}, { code: 'provider_unavailable', retryable: true }],
    ])('maps a %s from the hook to a ConnectorError and leaves the key attempted', async (status, headers, expected) => {
      const { crm, guard } = setup();
      nock(HOOK_ORIGIN).post(HOOK_PATH).reply(status, { status: 'error' }, headers);
      const err = await crm.logActivity(activity, { idempotencyKey: `k-${status}` }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err).toMatchObject({ ...expected, provider: 'honeybook', status });
      expect(guard.records.get(`k-${status}`)).toEqual({ state: 'attempted' });
    });

    it('maps a connection reset to a retryable network error', async () => {
      const { crm } = setup();
      nock(HOOK_ORIGIN).post(HOOK_PATH).replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
      const err = await crm.logActivity(activity, { idempotencyKey: 'k-reset' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err).toMatchObject({ code: 'network', retryable: true, provider: 'honeybook', status: undefined });
    });

    it('times out a hook slower than the timeout as a retryable timeout', async () => {
      const { crm } = setup({ timeoutMs: 100 });
      nock(HOOK_ORIGIN).post(HOOK_PATH).delay(500).reply(200, ZAPIER_OK);
      const err = await crm.logActivity(activity, { idempotencyKey: 'k-slow' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err).toMatchObject({ code: 'timeout', retryable: true, provider: 'honeybook' });
    });
  });

  describe('schemas', () => {
    it('accepts Zapier and Make hook URLs over https with a long signing secret', () => {
      for (const hookUrl of ['https://hooks.zapier.com/hooks/catch/123456/abcdef/', 'https://hook.eu1.make.com/abc123xyz', 'https://hook.us2.make.com/abc']) {
        expect(credentialsSchema.safeParse({ hookUrl, signingSecret: SECRET }).success).toBe(true);
      }
    });

    it.each([
      ['not a url', SECRET],
      ['https://hooks.zapier.com/hooks/catch/1/a/', 'short'],
    ])('rejects hook URL %s with secret %s', (hookUrl, signingSecret) => {
      expect(credentialsSchema.safeParse({ hookUrl, signingSecret }).success).toBe(false);
    });

    // Whether a well-formed URL may be called is the outbound guard's verdict, which names the rule.
    it.each([
      ['http://hooks.zapier.com/hooks/catch/1/a/', 'https_required'],
      ['https://example.com/hooks/catch/1/a/', 'host_not_allowed'],
      ['https://hooks.zapier.com.evil.test/hooks/catch/1/a/', 'host_not_allowed'],
      ['https://hooks.zapier.com:8443/hooks/catch/1/a/', 'host_not_allowed'],
      ['https://user:pw@hooks.zapier.com/hooks/catch/1/a/', 'invalid_url'],
      ['https://127.0.0.1/hooks/catch/1/a/', 'loopback'],
      ['https://[::ffff:127.0.0.1]/hooks/catch/1/a/', 'loopback'],
      ['https://169.254.169.254/latest/meta-data/', 'metadata'],
      ['https://10.0.0.7/hooks/catch/1/a/', 'private'],
      ['https://hooks.localhost/hooks/catch/1/a/', 'loopback'],
    ])('refuses to save hook URL %s (%s)', async (hookUrl, rule) => {
      const guard = createOutboundGuard({ resolve: async () => [{ address: '203.0.113.9', family: 4 }] });
      await expect(vetDestination(guard, 'honeybook', honeybook.hosts, hookUrl)).resolves.toMatchObject({ rule });
      await guard.close();
    });

    it('refuses a Zapier hook whose name resolves to a private address, and accepts a public one', async () => {
      const at = (address: string) => createOutboundGuard({ resolve: async () => [{ address, family: 4 }] });
      const hook = `${HOOK_ORIGIN}${HOOK_PATH}`;
      await expect(vetDestination(at('192.168.1.20'), 'honeybook', honeybook.hosts, hook)).resolves.toMatchObject({ rule: 'private', host: 'hooks.zapier.com', address: '192.168.1.20' });
      await expect(vetDestination(at('54.86.1.1'), 'honeybook', honeybook.hosts, hook)).resolves.toBeUndefined();
      await expect(vetDestination(at('54.86.1.1'), 'honeybook', honeybook.hosts, 'https://hook.eu1.make.com/abc123')).resolves.toBeUndefined();
    });

    it('is strict about unknown keys and takes no settings (its base URL is deployment config)', () => {
      expect(credentialsSchema.safeParse({ hookUrl: `${HOOK_ORIGIN}${HOOK_PATH}`, signingSecret: SECRET, extra: 1 }).success).toBe(false);
      expect(settingsSchema.safeParse({}).success).toBe(true);
      expect(settingsSchema.safeParse({ baseUrl: 'http://127.0.0.1:4010' }).success).toBe(false);
      expect(settingsSchema.safeParse({ other: true }).success).toBe(false);
    });

    it('declares the entry the registry needs', () => {
      expect(honeybook).toMatchObject({ id: 'honeybook', category: 'crm', auth: 'webhook-secret', ratePerSecond: 30 });
      expect(honeybook.docsUrl).toMatch(/^https:\/\/help\.zapier\.com\//);
    });
  });
});

describe('HoneyBook mapping', () => {
  it('flattens a person to snake_case, lowercasing the email and dropping empty fields', () => {
    expect(toHookPerson({ email: ' X@Y.Z', firstName: 'Só' })).toEqual({ email: 'x@y.z', first_name: 'Só', full_name: 'Só' });
    expect(toHookPerson(person)).toEqual(hookPerson);
    expect(normalizeEmail(' A@B.C ')).toBe('a@b.c');
  });

  it('prefers the given contact id over the email and defaults metadata to {}', () => {
    expect(activityData({ person, contactId: 'c1', type: 't', title: 'x', description: 'd', occurredAt: 'o' })).toMatchObject({ contact_id: 'c1', metadata: {} });
    expect(activityData({ person, type: 't', title: 'x', description: 'd', occurredAt: 'o' })).toMatchObject({ contact_id: 'ana.lima@example.com' });
  });

  it('resolves the hook URL, replacing only the origin when a base URL is set', () => {
    expect(resolveHookUrl('https://hooks.zapier.com/hooks/catch/1/a/').href).toBe('https://hooks.zapier.com/hooks/catch/1/a/');
    expect(resolveHookUrl('https://hooks.zapier.com/hooks/catch/1/a/?x=1', 'http://127.0.0.1:9/').href).toBe('http://127.0.0.1:9/hooks/catch/1/a/?x=1');
    expect(resolveHookUrl('https://hook.eu1.make.com/abc', 'http://localhost:9/relay').href).toBe('http://localhost:9/relay/abc');
  });

  it('takes the delivery reference from request_id, then id, else the key', () => {
    expect(deliveryReference({ request_id: 'r', id: 'i' }, 'k')).toBe('request:r');
    expect(deliveryReference({ id: 'i' }, 'k')).toBe('request:i');
    expect(deliveryReference('Accepted', 'k')).toBe('key:k');
    expect(deliveryReference(null, 'k')).toBe('key:k');
  });
});

describe('HoneyBook signature', () => {
  const body = '{"event":"ping"}';

  it('signs "<t>.<raw body>" with HMAC-SHA256 as t=…,v1=<hex>', () => {
    expect(signatureHeader(SECRET, T, body)).toBe(`t=${T},v1=${createHmac('sha256', SECRET).update(`${T}.${body}`).digest('hex')}`);
    expect(computeSignature(SECRET, T, body)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verifies a good signature and refuses a tampered body, a wrong secret, a stale timestamp or a malformed header', () => {
    const header = signatureHeader(SECRET, T, body);
    expect(verifySignature(SECRET, header, body, T + 10)).toBe(true);
    expect(verifySignature(SECRET, header, body.replace('ping', 'pong'), T)).toBe(false);
    expect(verifySignature(`${SECRET}x`, header, body, T)).toBe(false);
    expect(verifySignature(SECRET, header, body, T + 301)).toBe(false);
    expect(verifySignature(SECRET, `v1=${computeSignature(SECRET, T, body)}`, body, T)).toBe(false);
    expect(verifySignature(SECRET, undefined, body, T)).toBe(false);
    expect(verifySignature(SECRET, `t=${T},v1=zz`, body, T)).toBe(false);
  });

  it('accepts any of several v1 values (secret rotation)', () => {
    const header = `t=${T},v1=${computeSignature('old-secret', T, body)},v1=${computeSignature(SECRET, T, body)}`;
    expect(verifySignature(SECRET, header, body, T)).toBe(true);
  });
});
