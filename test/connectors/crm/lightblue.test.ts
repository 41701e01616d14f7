import { useNock } from '../../support/nock';
import nock from 'nock';
import { credentialsSchema, lightblue, settingsSchema } from '../../../connectors/crm/lightblue';
import { rejection } from '../../../connectors/crm/lightblue/client';
import {
  activityMessage,
  contactMessage,
  contactParams,
  customFieldsMessage,
  noteMessage,
  parseResult,
  requestParams,
  taskMessage,
} from '../../../connectors/crm/lightblue/mapping';
import type { Person } from '../../../connectors/contracts';
import { ConnectorError } from '../../../connectors/errors';
import { context, memoryGuard } from '../../support/connectors';

// https://online.lightbluesoftware.com/api.php, per "Sending data directly to the Light Blue API via HTTP POST".
const ORIGIN = 'https://online.lightbluesoftware.com';
const API_KEY = 'lb-key-123';
const FORM = 'application/x-www-form-urlencoded';

const person: Person = { email: 'Ana.Lima@Example.com', firstName: 'Ana', lastName: 'Lima', phone: '+15551234567', externalId: 'user_42', weddingDate: '2027-06-12' };
const contactFields = { ContactEmail: 'ana.lima@example.com', ContactNameFirst: 'Ana', ContactNameLast: 'Lima', ContactPhone: '+1 555 123 4567' };

function setup(extra: { baseUrl?: string; timeoutMs?: number; accountHost?: string } = {}) {
  const guard = memoryGuard();
  const settings = extra.accountHost ? { accountHost: extra.accountHost } : {};
  const ctx = context(lightblue, { apiKey: API_KEY }, settings, { guard, ...(extra.baseUrl ? { baseUrl: extra.baseUrl } : {}), ...(extra.timeoutMs ? { timeoutMs: extra.timeoutMs } : {}) });
  return { guard, crm: lightblue.create(ctx) };
}

/** One api.php POST whose form fields must equal `fields` exactly (key, type and the advanced parameters included). */
function expectSubmit(key: string, fields: Record<string, string>, reply = '0', origin = ORIGIN) {
  return nock(origin)
    .post('/api.php', { key: API_KEY, type: 'contact form', ...fields, Source: 'Tourhub', SourceAPIVersion: '1', ID: key })
    .matchHeader('content-type', FORM)
    .reply(200, reply, { 'content-type': 'text/html; charset=UTF-8' });
}

useNock({ assertDone: true });

describe('Light Blue connector (api.php "contact form" requests into the Inbox)', () => {
  it('upsertContact sends the contact fields and returns the normalised email as the contact id', async () => {
    const { crm, guard } = setup();
    expectSubmit('k-contact', {
      ...contactFields,
      Message: '[Tourhub contact] Contact details from Tourhub\nName: Ana Lima\nEmail: ana.lima@example.com\nPhone: +1 555 123 4567\nWedding date: 2027-06-12\nTourhub user id: user_42',
    });
    await expect(crm.upsertContact(person, { idempotencyKey: 'k-contact' })).resolves.toEqual({ contactId: 'ana.lima@example.com' });
    expect(guard.records.get('k-contact')).toEqual({ state: 'sent', reference: 'ana.lima@example.com' });
  });

  it('logActivity sends the activity as the Inbox message (shown in the Activity panel once linked)', async () => {
    const { crm, guard } = setup();
    expectSubmit('k-act', {
      ...contactFields,
      Message: '[Tourhub activity: tour_started] Started Dashboard Tour\nUser began onboarding tour: Welcome\nOccurred at: 2026-11-23T11:58:00.000Z\ntour_id: t1\nstep: 0',
    });
    const result = await crm.logActivity(
      {
        person,
        type: 'tour_started',
        title: 'Started Dashboard Tour',
        description: 'User began onboarding tour: Welcome',
        occurredAt: '2026-11-23T11:58:00.000Z',
        metadata: { tour_id: 't1', step: 0 },
      },
      { idempotencyKey: 'k-act' },
    );
    expect(result).toEqual({ activityId: 'inbox:k-act' });
    expect(guard.records.get('k-act')).toEqual({ state: 'sent', reference: 'inbox:k-act' });
  });

  it('createTask sends a message headed with the priority and due date', async () => {
    const { crm } = setup();
    expectSubmit('k-task', { ...contactFields, Message: '[Tourhub task, high priority, due 2026-11-25] Follow up on abandoned tour\nAbandoned at step 3' });
    await expect(
      crm.createTask({ person, title: 'Follow up on abandoned tour', description: 'Abandoned at step 3', dueDate: '2026-11-25', priority: 'high' }, { idempotencyKey: 'k-task' }),
    ).resolves.toEqual({ taskId: 'inbox:k-task' });
  });

  it('setCustomFields lists the fields in the message, one per line', async () => {
    const { crm } = setup();
    expectSubmit('k-cf', {
      ...contactFields,
      Message: '[Tourhub fields] Updated details from Tourhub\ntourhub_onboarding_completed: true\ntourhub_tour_rating: 5\nold: (cleared)',
    });
    await crm.setCustomFields({ person, fields: { tourhub_onboarding_completed: true, tourhub_tour_rating: 5, old: null } }, { idempotencyKey: 'k-cf' });
  });

  it('setCustomFields sends nothing for an empty field set', async () => {
    const { crm, guard } = setup();
    await crm.setCustomFields({ person, fields: {} }, { idempotencyKey: 'k-empty' });
    expect(guard.records.size).toBe(0);
  });

  it('addNote sends the note body', async () => {
    const { crm } = setup();
    expectSubmit('k-note', { ...contactFields, Message: '[Tourhub note]\nRating: 5/5\nFeedback: "lovely & clear"' });
    await expect(crm.addNote({ person, body: 'Rating: 5/5\nFeedback: "lovely & clear"' }, { idempotencyKey: 'k-note' })).resolves.toEqual({ noteId: 'inbox:k-note' });
  });

  it('treats status -4 (Light Blue already has this Source and ID) as delivered', async () => {
    const { crm, guard } = setup();
    expectSubmit('k-dup', { ...contactFields, Message: '[Tourhub note]\nhi' }, '-4\rThis is a duplicate API request');
    await expect(crm.addNote({ person, body: 'hi' }, { idempotencyKey: 'k-dup' })).resolves.toEqual({ noteId: 'inbox:k-dup' });
    expect(guard.records.get('k-dup')).toEqual({ state: 'sent', reference: 'inbox:k-dup' });
  });

  it('ping POSTs the key to apiCheck.php and accepts status 0', async () => {
    const { crm, guard } = setup();
    nock(ORIGIN).post('/apiCheck.php', { Key: API_KEY }).matchHeader('content-type', FORM).reply(200, '0\rAccount confirmed');
    await expect(crm.ping()).resolves.toBeUndefined();
    expect(guard.records.size).toBe(0);
  });

  it('ping reports a refused key as unauthorized', async () => {
    const { crm } = setup();
    nock(ORIGIN).post('/apiCheck.php', { Key: API_KEY }).reply(200, '-1\rInvalid API key');
    const err = await crm.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ code: 'unauthorized', retryable: false, provider: 'lightblue' });
    expect((err as Error).message).toContain('Invalid API key');
  });

  it('sends to the account host', async () => {
    const { crm } = setup({ accountHost: 'eu.lightbluesoftware.com' });
    nock('https://eu.lightbluesoftware.com').post('/apiCheck.php', { Key: API_KEY }).reply(200, '0');
    await crm.ping();
  });

  it('sends to the deployment’s base URL for lightblue', async () => {
    const { crm } = setup({ baseUrl: 'http://127.0.0.1:4012' });
    expectSubmit('k-loop', { ContactEmail: 'x@y.z', Message: '[Tourhub note]\nhi' }, '0', 'http://127.0.0.1:4012');
    await crm.addNote({ person: { email: 'x@y.z' }, body: 'hi' }, { idempotencyKey: 'k-loop' });
  });

  describe('delivery guard', () => {
    it('makes no HTTP call for a key already sent, and returns the recorded reference', async () => {
      const { crm, guard } = setup();
      expectSubmit('k-once', { ...contactFields, Message: '[Tourhub note]\nhi' });
      await crm.addNote({ person, body: 'hi' }, { idempotencyKey: 'k-once' });
      // No interceptor is left: a second HTTP call would fail the test.
      await expect(crm.addNote({ person, body: 'hi' }, { idempotencyKey: 'k-once' })).resolves.toEqual({ noteId: 'inbox:k-once' });
      expect(guard.records.get('k-once')).toEqual({ state: 'sent', reference: 'inbox:k-once' });
    });

    it('retries a key recorded only as attempted, with the same ID so Light Blue can de-duplicate', async () => {
      const { crm, guard } = setup();
      await guard.markAttempted('k-crashed');
      expectSubmit('k-crashed', { ...contactFields, Message: '[Tourhub task, normal priority, due 2026-11-30] Call' }, '-4');
      await expect(crm.createTask({ person, title: 'Call', dueDate: '2026-11-30', priority: 'normal' }, { idempotencyKey: 'k-crashed' })).resolves.toEqual({
        taskId: 'inbox:k-crashed',
      });
      expect(guard.records.get('k-crashed')).toEqual({ state: 'sent', reference: 'inbox:k-crashed' });
    });
  });

  describe('errors', () => {
    it.each([
      [400, {}, { code: 'bad_request', retryable: false }],
      [401, {}, { code: 'unauthorized', retryable: false }],
      [404, {}, { code: 'not_found', retryable: false }],
      [429, { 'Retry-After': '60' }, { code: 'rate_limited', retryable: true, retryAfterMs: 60_000 }],
      [500, {}, { code: 'provider_unavailable', retryable: true }],
    ])('maps HTTP %s from api.php to a ConnectorError and leaves the key attempted', async (status, headers, expected) => {
      const { crm, guard } = setup();
      nock(ORIGIN).post('/api.php').reply(status, 'error', headers);
      const err = await crm.addNote({ person, body: 'x' }, { idempotencyKey: `k-${status}` }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err).toMatchObject({ ...expected, provider: 'lightblue', status });
      expect(guard.records.get(`k-${status}`)).toEqual({ state: 'attempted' });
    });

    it.each([
      ['-3\rInvalid request type', { code: 'bad_request', retryable: false }],
      ['-20\rYou must use HTTPS', { code: 'misconfigured', retryable: false }],
      ['-7\rSomething new', { code: 'bad_request', retryable: false }],
      ['<html>maintenance</html>', { code: 'unexpected_response', retryable: false }],
    ])('maps the api.php answer %j to a non-retryable ConnectorError', async (body, expected) => {
      const { crm } = setup();
      nock(ORIGIN).post('/api.php').reply(200, body);
      await expect(crm.addNote({ person, body: 'x' }, { idempotencyKey: 'k-status' })).rejects.toMatchObject({ ...expected, provider: 'lightblue' });
    });

    it('maps a connection reset to a retryable network error', async () => {
      const { crm } = setup();
      nock(ORIGIN).post('/api.php').replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
      await expect(crm.addNote({ person, body: 'x' }, { idempotencyKey: 'k-reset' })).rejects.toMatchObject({ code: 'network', retryable: true, provider: 'lightblue', status: undefined });
    });

    it('times out a slow answer as a retryable timeout', async () => {
      const { crm } = setup({ timeoutMs: 100 });
      nock(ORIGIN).post('/api.php').delay(500).reply(200, '0');
      const err = await crm.addNote({ person, body: 'x' }, { idempotencyKey: 'k-slow' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err).toMatchObject({ code: 'timeout', retryable: true, provider: 'lightblue' });
    });
  });

  describe('schemas', () => {
    it('takes an API key, strictly, and an optional account host (never a base URL)', () => {
      expect(credentialsSchema.safeParse({ apiKey: API_KEY }).success).toBe(true);
      expect(credentialsSchema.safeParse({ apiKey: '' }).success).toBe(false);
      expect(credentialsSchema.safeParse({ apiKey: API_KEY, extra: 1 }).success).toBe(false);
      expect(settingsSchema.parse({ accountHost: ' Online.LightBlueSoftware.com ' })).toEqual({ accountHost: 'online.lightbluesoftware.com' });
      expect(settingsSchema.safeParse({ accountHost: 'https://online.lightbluesoftware.com/' }).success).toBe(false);
      expect(settingsSchema.safeParse({ baseUrl: 'http://127.0.0.1:4012' }).success).toBe(false);
      expect(settingsSchema.safeParse({ source: 'x' }).success).toBe(false);
    });

    it('names its account URL from the host, by default online.lightbluesoftware.com', () => {
      expect(lightblue.accountUrl!({ apiKey: API_KEY }, {})).toBe('https://online.lightbluesoftware.com/');
      expect(lightblue.accountUrl!({ apiKey: API_KEY }, { accountHost: 'eu.lightbluesoftware.com' })).toBe('https://eu.lightbluesoftware.com/');
    });

    it('declares the entry the registry needs', () => {
      expect(lightblue).toMatchObject({ id: 'lightblue', category: 'crm', auth: 'api-key', ratePerSecond: 1 });
    });
  });
});

describe('Light Blue mapping', () => {
  it('maps the person to Contact* parameters, single-line', () => {
    expect(contactParams(person)).toEqual(contactFields);
    expect(contactParams({ email: 'A@B.C', firstName: 'Ana\nMaria ' })).toEqual({ ContactEmail: 'a@b.c', ContactNameFirst: 'Ana Maria' });
  });

  it('adds the message and the Source / SourceAPIVersion / ID advanced parameters', () => {
    expect(requestParams('key-1', { email: 'a@b.c' }, 'm')).toEqual({ ContactEmail: 'a@b.c', Message: 'm', Source: 'Tourhub', SourceAPIVersion: '1', ID: 'key-1' });
  });

  it('writes prefixed messages', () => {
    expect(contactMessage({ email: 'a@b.c' })).toBe('[Tourhub contact] Contact details from Tourhub\nEmail: a@b.c');
    expect(activityMessage({ type: 't', title: 'T', description: '', occurredAt: 'o' })).toBe('[Tourhub activity: t] T\nOccurred at: o');
    expect(taskMessage({ title: 'Call', dueDate: 'd', priority: 'low' })).toBe('[Tourhub task, low priority, due d] Call');
    expect(customFieldsMessage({ a: 1 })).toBe('[Tourhub fields] Updated details from Tourhub\na: 1');
    expect(noteMessage('x')).toBe('[Tourhub note]\nx');
  });

  it('parses the status line and the optional summary', () => {
    expect(parseResult('0')).toEqual({ code: 0 });
    expect(parseResult('0\r\n')).toEqual({ code: 0 });
    expect(parseResult(' -4\rDuplicate request\r')).toEqual({ code: -4, message: 'Duplicate request' });
    expect(parseResult('-3\nInvalid type')).toEqual({ code: -3, message: 'Invalid type' });
    expect(parseResult(0)).toEqual({ code: 0 });
    expect(parseResult('OK')).toBeUndefined();
    expect(parseResult({ status: 0 })).toBeUndefined();
  });

  it('turns non-zero statuses into non-retryable errors', () => {
    expect(rejection(-20, undefined)).toMatchObject({ code: 'misconfigured', retryable: false });
    expect(rejection(-3, 'bad')).toMatchObject({ code: 'bad_request', retryable: false, message: expect.stringContaining('bad') });
  });
});
