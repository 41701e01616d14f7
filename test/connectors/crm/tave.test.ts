import { useNock } from '../../support/nock';
import nock from 'nock';
import { credentialsSchema, settingsSchema, tave } from '../../../connectors/crm/tave';
import {
  activityNote,
  datePart,
  escapeHtml,
  pickContactByEmail,
  plainNote,
  resolveCustomFields,
  taskNote,
  toCustomFieldValue,
  toTavePerson,
  toTavePhone,
} from '../../../connectors/crm/tave/mapping';
import type { Person } from '../../../connectors/contracts';
import { ConnectorError } from '../../../connectors/errors';
import { context, memoryGuard } from '../../support/connectors';

// Server and paths from the VSCO Workspace API v2 OpenAPI document (servers[1], /address-book, /note, ...).
const ORIGIN = 'https://workspace.vsco.co';
const API_KEY = 'tave-key-123';
const CONTACT_ID = '01h35ccwymj5ctckp8px1azhg6';

const person: Person = { email: 'Ana.Lima@Example.com', firstName: 'Ana', lastName: 'Lima', phone: '+1 (555) 123-4567', weddingDate: '2027-06-12' };
const personBody = {
  kind: 'person',
  email: 'ana.lima@example.com',
  firstName: 'Ana',
  lastName: 'Lima',
  cellPhone: { e164: '+15551234567' },
  anniversary: '2027-06-12',
};

function setup(extra: { baseUrl?: string; timeoutMs?: number } = {}) {
  const guard = memoryGuard();
  const ctx = context(tave, { apiKey: API_KEY }, {}, { guard, ...(extra.baseUrl ? { baseUrl: extra.baseUrl } : {}), ...(extra.timeoutMs ? { timeoutMs: extra.timeoutMs } : {}) });
  return { guard, crm: tave.create(ctx) };
}

/** Every call carries the key in X-API-KEY and asks for JSON. */
function api(origin = ORIGIN) {
  return nock(origin, { reqheaders: { 'x-api-key': API_KEY, accept: 'application/json' } });
}

const collection = (items: unknown[]) => ({ type: 'addressbook-collection', meta: { currentPage: 1, totalPages: 1, totalItems: items.length, rows: 100 }, items });

useNock({ assertDone: true });

describe('VSCO Workspace (Táve) connector', () => {
  describe('upsertContact (search by email, then PUT or POST)', () => {
    it('creates a person when the email search has no exact match', async () => {
      const { crm, guard } = setup();
      api()
        .get('/api/v2/address-book')
        .query({ email: 'ana.lima@example.com' })
        .reply(200, collection([{ id: '01other', kind: 'person', email: 'ana.lima@example.org' }]));
      api()
        .post('/api/v2/address-book', personBody)
        .matchHeader('content-type', 'application/json')
        .reply(201, { id: CONTACT_ID, kind: 'person', email: 'ana.lima@example.com' });
      await expect(crm.upsertContact(person, { idempotencyKey: 'k-contact' })).resolves.toEqual({ contactId: CONTACT_ID });
      // Upsert by email is the vendor's own idempotency: no delivery record is used.
      expect(guard.records.size).toBe(0);
    });

    it('updates the person whose email matches, ignoring case', async () => {
      const { crm } = setup();
      api()
        .get('/api/v2/address-book')
        .query({ email: 'ana.lima@example.com' })
        .reply(200, collection([{ id: CONTACT_ID, kind: 'person', email: 'ANA.LIMA@example.com' }]));
      api().put(`/api/v2/address-book/${CONTACT_ID}`, personBody).matchHeader('content-type', 'application/json').reply(200, { id: CONTACT_ID, kind: 'person' });
      await expect(crm.upsertContact(person, { idempotencyKey: 'k-contact' })).resolves.toEqual({ contactId: CONTACT_ID });
    });
  });

  describe('logActivity (a prefixed Note: the API has no activity resource)', () => {
    const input = {
      person,
      contactId: CONTACT_ID,
      type: 'tour_completed',
      title: 'Completed Dashboard Tour',
      description: 'Completed with 100% completion rate',
      occurredAt: '2026-11-23T11:58:00.000Z',
      metadata: { tour_id: 't1', completion_time: 312 },
    };

    it('POSTs /note on the given contact and returns the note id', async () => {
      const { crm, guard } = setup();
      api()
        .post('/api/v2/note', {
          contactId: CONTACT_ID,
          contentHtml:
            '<p><strong>[Tourhub activity: tour_completed]</strong> Completed Dashboard Tour</p>' +
            '<p>Completed with 100% completion rate</p><p>Occurred at 2026-11-23T11:58:00.000Z</p>' +
            '<ul><li>tour_id: t1</li><li>completion_time: 312</li></ul>',
          date: '2026-11-23',
        })
        .matchHeader('content-type', 'application/json')
        .reply(201, { id: '01note1', contactId: CONTACT_ID });
      await expect(crm.logActivity(input, { idempotencyKey: 'k-act' })).resolves.toEqual({ activityId: '01note1' });
      expect(guard.records.get('k-act')).toEqual({ state: 'sent', reference: '01note1' });
    });

    it('finds the contact by email when no contact id is given', async () => {
      const { crm } = setup();
      api().get('/api/v2/address-book').query({ email: 'ana.lima@example.com' }).reply(200, collection([{ id: CONTACT_ID, kind: 'person', email: 'ana.lima@example.com' }]));
      api()
        .post('/api/v2/note', (body: { contactId: string }) => body.contactId === CONTACT_ID)
        .reply(201, { id: '01note2' });
      const { contactId: _omit, ...withoutId } = input;
      await expect(crm.logActivity(withoutId, { idempotencyKey: 'k-act-2' })).resolves.toEqual({ activityId: '01note2' });
    });

    it('creates the contact first when nobody has the email', async () => {
      const { crm } = setup();
      api().get('/api/v2/address-book').query({ email: 'ana.lima@example.com' }).reply(200, collection([]));
      api().post('/api/v2/address-book', personBody).reply(201, { id: CONTACT_ID, kind: 'person' });
      api()
        .post('/api/v2/note', (body: { contactId: string }) => body.contactId === CONTACT_ID)
        .reply(201, { id: '01note3' });
      const { contactId: _omit, ...withoutId } = input;
      await expect(crm.logActivity(withoutId, { idempotencyKey: 'k-act-3' })).resolves.toEqual({ activityId: '01note3' });
    });

    it('makes no HTTP call for a key already sent, and returns the recorded note id', async () => {
      const { crm, guard } = setup();
      api().post('/api/v2/note').reply(201, { id: '01note4' });
      await crm.logActivity(input, { idempotencyKey: 'k-once' });
      // No interceptor is left: a second HTTP call would fail the test.
      await expect(crm.logActivity(input, { idempotencyKey: 'k-once' })).resolves.toEqual({ activityId: '01note4' });
      expect(guard.records.get('k-once')).toEqual({ state: 'sent', reference: '01note4' });
    });

    it('retries a key whose earlier attempt is only recorded as attempted', async () => {
      const { crm, guard } = setup();
      await guard.markAttempted('k-crashed');
      api().post('/api/v2/note').reply(201, { id: '01note5' });
      await expect(crm.logActivity(input, { idempotencyKey: 'k-crashed' })).resolves.toEqual({ activityId: '01note5' });
      expect(guard.records.get('k-crashed')).toEqual({ state: 'sent', reference: '01note5' });
    });

    it('refuses a 201 without an id as an unexpected response', async () => {
      const { crm, guard } = setup();
      api().post('/api/v2/note').reply(201, {});
      await expect(crm.logActivity(input, { idempotencyKey: 'k-noid' })).rejects.toMatchObject({ code: 'unexpected_response', retryable: false, provider: 'tave' });
      expect(guard.records.get('k-noid')).toEqual({ state: 'attempted' });
    });
  });

  it('createTask POSTs a Note headed with the priority and due date (the API has no task resource)', async () => {
    const { crm, guard } = setup();
    api()
      .post('/api/v2/note', {
        contactId: CONTACT_ID,
        contentHtml: '<p><strong>[Tourhub task, high priority, due 2026-11-25]</strong> Follow up on abandoned tour</p><p>Abandoned at step 3 &lt;Venue&gt;</p>',
      })
      .reply(201, { id: '01task1' });
    const result = await crm.createTask(
      { person, contactId: CONTACT_ID, title: 'Follow up on abandoned tour', description: 'Abandoned at step 3 <Venue>', dueDate: '2026-11-25', priority: 'high' },
      { idempotencyKey: 'k-task' },
    );
    expect(result).toEqual({ taskId: '01task1' });
    expect(guard.records.get('k-task')).toEqual({ state: 'sent', reference: '01task1' });
  });

  describe('setCustomFields (names resolved to custom field ids, then PUT on the contact)', () => {
    const definitions = {
      type: 'customfield-collection',
      items: [
        { id: '01cf0000000000000000000001', name: 'Tourhub onboarding completed', token: 'tourhub_onboarding_completed', canApplyTo: 'Contact', kind: 'Checkbox' },
        { id: '01cf0000000000000000000002', name: 'Tour rating', token: 'tour_rating', canApplyTo: 'Contact', kind: 'Number' },
        { id: '01cf0000000000000000000003', name: 'Tour rating', token: 'job_tour_rating', canApplyTo: 'Job', kind: 'Number' },
      ],
    };

    it('lists contact custom fields and PUTs their values by id', async () => {
      const { crm, guard } = setup();
      api().get('/api/v2/custom-field').query({ canApplyTo: 'contact' }).reply(200, definitions);
      api()
        .put(`/api/v2/address-book/${CONTACT_ID}`, {
          kind: 'person',
          customFields: [
            { fieldId: '01cf0000000000000000000001', value: 'true' },
            { fieldId: '01cf0000000000000000000002', value: '5' },
          ],
        })
        .matchHeader('content-type', 'application/json')
        .reply(200, { id: CONTACT_ID, kind: 'person' });
      await crm.setCustomFields({ person, contactId: CONTACT_ID, fields: { tourhub_onboarding_completed: true, 'Tour Rating': 5 } }, { idempotencyKey: 'k-cf' });
      expect(guard.records.size).toBe(0);
    });

    it('fails as misconfigured, without writing, when a mapped field does not exist', async () => {
      const { crm } = setup();
      api().get('/api/v2/custom-field').query({ canApplyTo: 'contact' }).reply(200, definitions);
      const err = await crm.setCustomFields({ person, contactId: CONTACT_ID, fields: { tour_rating: 4, wedsync_vip: true } }, { idempotencyKey: 'k-cf2' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err).toMatchObject({ code: 'misconfigured', retryable: false, provider: 'tave' });
      expect((err as Error).message).toContain('"wedsync_vip"');
    });

    it('makes no call for an empty field set', async () => {
      const { crm } = setup();
      await crm.setCustomFields({ person, fields: {} }, { idempotencyKey: 'k-cf3' });
    });
  });

  it('addNote POSTs an escaped Note and returns its id', async () => {
    const { crm } = setup();
    api()
      .post('/api/v2/note', { contactId: CONTACT_ID, contentHtml: '<p><strong>[Tourhub note]</strong></p><p>Rating: 5/5<br>Feedback: &quot;lovely &amp; clear&quot;</p>' })
      .reply(201, { id: '01note9' });
    await expect(crm.addNote({ person, contactId: CONTACT_ID, body: 'Rating: 5/5\nFeedback: "lovely & clear"' }, { idempotencyKey: 'k-note' })).resolves.toEqual({
      noteId: '01note9',
    });
  });

  it('ping reads GET /studio/me', async () => {
    const { crm } = setup();
    api().get('/api/v2/studio/me').reply(200, { id: '01studio', name: 'Lima Photo' });
    await expect(crm.ping()).resolves.toBeUndefined();
  });

  it('sends every call to the deployment’s base URL for tave', async () => {
    const { crm } = setup({ baseUrl: 'http://127.0.0.1:4011/api/v2' });
    api('http://127.0.0.1:4011').get('/api/v2/studio/me').reply(200, { id: '01studio', name: 'Lima Photo' });
    await crm.ping();
  });

  describe('errors', () => {
    it.each([
      [400, { type: 'validation-error', title: 'Validation Error', detail: { email: 'invalid' }, status: 400 }, {}, { code: 'bad_request', retryable: false }],
      [401, { type: 'unknown', title: 'Unauthorized', detail: 'API key is missing or invalid', status: 401 }, {}, { code: 'unauthorized', retryable: false }],
      [404, { type: 'unknown', title: 'Not Found', status: 404 }, {}, { code: 'not_found', retryable: false }],
      [429, { type: 'quota-limit', title: 'Too Many Requests', detail: 'Exceeded request quota', status: 429 }, { 'Retry-After': '12' }, { code: 'rate_limited', retryable: true, retryAfterMs: 12_000 }],
      [500, { type: 'unknown', title: 'Server Error', status: 500 }, {}, { code: 'provider_unavailable', retryable: true }],
    ])('maps %s on GET /studio/me to a ConnectorError', async (status, body, headers, expected) => {
      const { crm } = setup();
      api().get('/api/v2/studio/me').reply(status, body, { 'content-type': 'application/json', ...headers });
      const err = await crm.ping().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err).toMatchObject({ ...expected, provider: 'tave', status });
    });

    it('carries the API problem detail in the message', async () => {
      const { crm } = setup();
      api().get('/api/v2/studio/me').reply(401, { type: 'unknown', title: 'Unauthorized', detail: 'API key is missing or invalid', status: 401 });
      await expect(crm.ping()).rejects.toThrow('tave answered 401: API key is missing or invalid');
    });

    it('maps a connection reset to a retryable network error', async () => {
      const { crm } = setup();
      api().get('/api/v2/studio/me').replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
      await expect(crm.ping()).rejects.toMatchObject({ code: 'network', retryable: true, provider: 'tave', status: undefined });
    });

    it('times out a slow answer as a retryable timeout', async () => {
      const { crm } = setup({ timeoutMs: 100 });
      api().get('/api/v2/studio/me').delay(500).reply(200, { id: '01studio' });
      const err = await crm.ping().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err).toMatchObject({ code: 'timeout', retryable: true, provider: 'tave' });
    });

    it('leaves a failed note attempted so the retry sends it', async () => {
      const { crm, guard } = setup();
      api().post('/api/v2/note').reply(503, { type: 'unknown', title: 'Unavailable', status: 503 }, { 'Retry-After': '2' });
      await expect(crm.addNote({ person, contactId: CONTACT_ID, body: 'x' }, { idempotencyKey: 'k-503' })).rejects.toMatchObject({ code: 'provider_unavailable', retryAfterMs: 2000 });
      expect(guard.records.get('k-503')).toEqual({ state: 'attempted' });
    });
  });

  describe('schemas', () => {
    it('takes an API key, strictly, and no settings (a base URL is deployment config, not a setting)', () => {
      expect(credentialsSchema.safeParse({ apiKey: API_KEY }).success).toBe(true);
      expect(credentialsSchema.safeParse({ apiKey: ' ' }).success).toBe(false);
      expect(credentialsSchema.safeParse({ apiKey: API_KEY, secret: 'x' }).success).toBe(false);
      expect(settingsSchema.safeParse({}).success).toBe(true);
      expect(settingsSchema.safeParse({ baseUrl: 'https://tave.io/v2' }).success).toBe(false);
      expect(settingsSchema.safeParse({ studio: 'x' }).success).toBe(false);
    });

    it('declares the entry the registry needs', () => {
      expect(tave).toMatchObject({ id: 'tave', category: 'crm', auth: 'api-key', ratePerSecond: 2, docsUrl: 'https://workspace.vsco.co/api' });
    });
  });
});

describe('VSCO Workspace (Táve) mapping', () => {
  it('maps a person to a Person write: lowercased email, E.164 cell phone, wedding date as anniversary', () => {
    expect(toTavePerson(person)).toEqual(personBody);
    expect(toTavePerson({ email: 'a@b.c' })).toEqual({ kind: 'person', email: 'a@b.c' });
    expect(toTavePerson({ email: 'a@b.c', firstName: 'x'.repeat(60), weddingDate: 'June' })).toEqual({ kind: 'person', email: 'a@b.c', firstName: 'x'.repeat(48) });
  });

  it('sends E.164 numbers as e164 and anything else as formatted', () => {
    expect(toTavePhone('+44 20 7946 0958')).toEqual({ e164: '+442079460958' });
    expect(toTavePhone('(555) 123-4567')).toEqual({ formatted: '(555) 123-4567' });
  });

  it('picks the exact email match from a ranked search, preferring people', () => {
    const items = [
      { id: 'a', kind: 'person', email: 'ana@example.org' },
      { id: 'b', kind: 'company', email: 'ANA@example.com' },
      { id: 'c', kind: 'person', email: 'ana@example.com' },
    ];
    expect(pickContactByEmail({ items }, 'Ana@Example.com')?.id).toBe('c');
    expect(pickContactByEmail({ items: items.slice(0, 2) }, 'ana@example.com')?.id).toBe('b');
    expect(pickContactByEmail({ items: [items[0]!] }, 'ana@example.com')).toBeUndefined();
  });

  it('resolves custom fields by name or token, case-insensitively, ignoring job fields', () => {
    const defs = [
      { id: '1', name: 'Tour rating', token: 'tour_rating', canApplyTo: 'Contact' },
      { id: '2', name: 'Only on jobs', canApplyTo: 'Job' },
    ];
    expect(resolveCustomFields({ TOUR_RATING: 4, 'only on jobs': 'x', cleared: null }, defs)).toEqual({
      values: [{ fieldId: '1', value: '4' }],
      unknown: ['only on jobs', 'cleared'],
    });
    expect(toCustomFieldValue(null)).toBeNull();
    expect(toCustomFieldValue(false)).toBe('false');
  });

  it('builds escaped HTML notes with a clear prefix', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(activityNote('c', { type: 'tour_started', title: 'Started', description: 'a\n\nb', occurredAt: 'sometime' })).toEqual({
      contactId: 'c',
      contentHtml: '<p><strong>[Tourhub activity: tour_started]</strong> Started</p><p>a</p><p>b</p><p>Occurred at sometime</p>',
    });
    expect(taskNote('c', { title: 'Call', dueDate: '2026-11-30', priority: 'normal' }).contentHtml).toBe('<p><strong>[Tourhub task, normal priority, due 2026-11-30]</strong> Call</p>');
    expect(plainNote('c', 'hi')).toEqual({ contactId: 'c', contentHtml: '<p><strong>[Tourhub note]</strong></p><p>hi</p>' });
    expect(datePart('2026-11-23T23:59:00Z')).toBe('2026-11-23');
    expect(datePart('yesterday')).toBeUndefined();
  });
});

// Issue 14: a couple's phone as people type it broke POST /address-book (cellPhone.formatted is capped at 24).
describe('VSCO Workspace with real-world input (issue 14)', () => {
  it('creates the contact with a phone typed with an extension within the Phone schema’s limits', async () => {
    const { crm } = setup();
    let sent: { cellPhone?: { e164?: string; formatted?: string } } | undefined;
    api().get('/api/v2/address-book').query(true).reply(200, collection([]));
    api()
      .post('/api/v2/address-book')
      .reply(201, function (_uri, body) {
        sent = body as typeof sent;
        return { id: CONTACT_ID, kind: 'person' };
      });

    await crm.upsertContact({ email: 'ada@example.com', phone: '+1 (415) 555-0123 ext. 1234' }, { idempotencyKey: 'k-ext' });

    expect(sent?.cellPhone).toEqual({ e164: '+14155550123' });
    expect((sent?.cellPhone?.formatted ?? '').length).toBeLessThanOrEqual(24);
  });
});
