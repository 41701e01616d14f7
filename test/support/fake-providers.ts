/**
 * Loopback fakes of the providers the hub calls, for end-to-end tests and benchmarks (no jest here). The
 * server core is fake-core.ts; the first seven vendors are below, the others one file each in test/fakes/.
 *
 * Each fake is a node:http server on 127.0.0.1 (port 0) that answers the requests our connectors make
 * (connectors/<category>/<vendor>/client.ts, and the vendor references their nock tests cite) with the
 * vendor's JSON shapes, and behaves like the vendor where it matters for exactly-once delivery:
 *
 * | fake | identity of a write (what the provider dedupes or would duplicate on) | a repeat |
 * | --- | --- | --- |
 * | honeybook | `X-Tourhub-Idempotency-Key` (the Zap dedupes on `idempotency_key`, README step 4) | deduplicated |
 * | tave | contact: `contact:<email>`; note: `note:<contactId>:<sha256(contentHtml)>` (no key) | note: a second note |
 * | google-calendar | the client-chosen event id (`body.id`) | 409 duplicate |
 * | outlook-calendar | `transactionId` | the event already made |
 * | mailchimp | member: `member:<list>:<hash>` (PUT upsert); trigger: `journey:<j>/<s>:<email>` | upsert; journey admits once (configurable) |
 * | stripe | `Idempotency-Key` | replayed answer (`Idempotent-Replayed: true`); other parameters: 400 |
 * | twilio | `<To>|<From or MessagingServiceSid>|<Body>` (no key) | a second message |
 * | pocketsuite (test/fakes/) | the envelope's `idempotency_key`, as HoneyBook | deduplicated |
 * | apple-calendar | the VEVENT's UID (resource `<uid>.ics`) | 412 to `If-None-Match: *` |
 * | square | `idempotency_key` in the body; a definition: `definition:<key>` | first answer replayed; definition 409 |
 * | paypal | `PayPal-Request-Id` | the first subscription |
 * | kit | `subscriber:<email>`, `sequence:<id>:<email>`, `tagging:<tag>:<email>` | upsert; in a sequence once |
 * | activecampaign | `contact:<email>`, `list:<l>:<c>`, `automation:<a>:<c>` (no key) | upsert; automation runs again |
 * | vonage | `<to>|<from>|<text>` (no key) | a second message |
 * | bird | `<receiver>|<text>` (no key) | a second message |
 *
 * Every request is recorded with that identity (`key`), the time it arrived and the time it was answered,
 * and whether the client went away first (`aborted`: a worker killed mid-call). The effect of a write is
 * applied when the request arrives, before any latency, as a real provider would: a call in flight when
 * its caller dies has happened. `duplicates()` lists identities whose effect happened more than once,
 * i.e. what a couple or planner would see twice; `countsByKey()` counts the write requests that reached
 * the provider, including repeats it absorbed.
 *
 * Faults: `down(ms?)` answers 503 to everything until `up()` (or for `ms`), `failNext(n, status)` fails the
 * next n requests, `setLatency(ms)` holds every answer back. Faulted requests are recorded as `fault` and
 * have no effect.
 *
 * Two-way sync reads what changed, as each vendor serves it: Tave's address book by page (`sortBy`
 * `modified desc` or `id asc`), Mailchimp's members by `offset` and `since_last_changed`, Stripe's customers
 * by `starting_after` and its `customer.*` events, Google's events with sync and page tokens, Graph's
 * calendarView delta with next and delta links. `store(name)` is the provider's own data (Tave `contacts`,
 * Mailchimp `members`, Stripe `customers`, Google and Outlook `events`), for seeding many records and for
 * edits a planner makes in the vendor's app; `touch(name, id)` marks such an edit as a change.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { insertIntegration } from '../../db/repositories/integrations';
import type { SecretBox } from '../../db/secrets';
import { activecampaignSpec } from '../fakes/activecampaign';
import { appleSpec } from '../fakes/apple';
import { birdSpec } from '../fakes/bird';
import { zapierCatchHook } from '../fakes/catch-hook';
import { kitSpec } from '../fakes/kit';
import { paypalSpec } from '../fakes/paypal';
import { pocketsuiteSpec } from '../fakes/pocketsuite';
import { squareSpec } from '../fakes/square';
import { vonageSpec } from '../fakes/vonage';
import { alnum, basic, bearer, createFake, hex, json, lower, md5, obj, rfc2822, sha256, ulid, FAKE_PROVIDER_IDS, type CallOutcome, type FakeOptions, type FakeProvider, type FakeProviderId, type FakeRequest, type ProviderSpec, type RecordedCall, type Reply } from './fake-core';

export { FAKE_PROVIDER_IDS, type CallOutcome, type FakeIntegration, type FakeOptions, type FakeProvider, type FakeProviderId, type RecordedCall } from './fake-core';

// ---------------------------------------------------------------------------------------------------
// HoneyBook: a Zapier catch hook whose Zap verifies the signature and drops repeated idempotency keys.

function honeybookSpec(): ProviderSpec {
  const signingSecret = `whsec_${hex(24)}`;
  const hookPath = '/hooks/catch/1234567/tourhub0fake/';
  return {
    id: 'honeybook',
    errorBody: (status) => ({ status: 'error', message: status === 404 ? 'Hook not found.' : 'Service Unavailable' }),
    integration: () => ({
      provider: 'honeybook',
      category: 'crm',
      auth: 'webhook-secret',
      credentials: { hookUrl: `https://hooks.zapier.com${hookPath}`, signingSecret },
      settings: {},
    }),
    baseUrl: (url) => url,
    routes: [zapierCatchHook({ hookPath, signingSecret })],
  };
}

// ---------------------------------------------------------------------------------------------------
// Tave / VSCO Workspace API v2: address book, custom fields, notes.

function taveSpec(opts: FakeOptions): ProviderSpec {
  const apiKey = `tave_${hex(16)}`;
  const contacts = new Map<string, Record<string, unknown>>();
  const notes = new Map<string, Record<string, unknown>>();
  const fields = (opts.taveCustomFields ?? [
    { name: 'Tour completed at', token: 'tour_completed_at' },
    { name: 'Tour name', token: 'tour_name' },
    { name: 'Tour rating', token: 'tour_rating' },
  ]).map((f) => ({ id: ulid(), name: f.name, token: f.token, canApplyTo: 'contact', kind: 'text', hidden: false }));
  const problem = (status: number, title: string, detail?: string) => ({ type: 'unknown', title, status, ...(detail ? { detail } : {}) });
  const collection = (type: string, items: unknown[]) => ({ type, meta: { currentPage: 1, totalPages: 1, totalItems: items.length, rows: 100 }, items });
  const P = '^/api/v2';
  return {
    id: 'tave',
    stores: { contacts },
    touch: (_name, id) => {
      const c = contacts.get(id);
      if (c) c.modified = new Date().toISOString();
    },
    errorBody: (status) => problem(status, status === 404 ? 'Not Found' : 'Service Unavailable'),
    integration: () => ({ provider: 'tave', category: 'crm', auth: 'api-key', credentials: { apiKey }, settings: {} }),
    baseUrl: (url) => `${url}/api/v2`,
    authorize: (req) => (req.headers['x-api-key'] === apiKey ? undefined : json(401, problem(401, 'Unauthorized', 'API key is missing or invalid'), 'unauthorized')),
    routes: [
      {
        method: 'GET',
        path: new RegExp(`${P}/address-book$`),
        kind: 'read',
        handle(req) {
          const wanted = lower(req.query.get('email'));
          if (wanted) {
            const matches = [...contacts.values()].filter((c) => lower(c.email).includes(wanted));
            matches.sort((a, b) => Number(lower(b.email) === wanted) - Number(lower(a.email) === wanted));
            return json(200, collection('addressbook-collection', matches), 'read');
          }
          // The whole address book, a page at a time (page from 1, pageSize 10 to 100), sorted as asked.
          const pageSize = Math.min(Math.max(Number(req.query.get('pageSize') ?? 100) || 100, 10), 100);
          const page = Math.max(1, Number(req.query.get('page') ?? 1) || 1);
          const all = [...contacts.values()];
          if (req.query.get('sortBy') === 'modified desc') all.sort((a, b) => String(b.modified).localeCompare(String(a.modified)) || String(a.id).localeCompare(String(b.id)));
          else all.sort((a, b) => String(a.id).localeCompare(String(b.id)));
          const items = all.slice((page - 1) * pageSize, page * pageSize);
          const totalPages = Math.max(1, Math.ceil(all.length / pageSize));
          return json(200, { type: 'addressbook-collection', meta: { currentPage: page, totalPages, totalItems: all.length, rows: pageSize }, items }, 'read');
        },
      },
      {
        method: 'POST',
        path: new RegExp(`${P}/address-book$`),
        kind: 'write',
        key: (req) => `contact:${lower(obj(req.body).email)}`,
        handle(req) {
          const body = obj(req.body);
          if (body.kind !== 'person' || typeof body.email !== 'string') return json(422, problem(422, 'Unprocessable Entity', 'kind and email are required'), 'rejected');
          const now = new Date().toISOString();
          const contact = { ...body, id: ulid(), created: now, modified: now };
          contacts.set(contact.id, contact);
          return json(201, contact, 'applied');
        },
      },
      {
        method: 'PUT',
        path: new RegExp(`${P}/address-book/([^/]+)$`),
        kind: 'write',
        key: (req) => {
          const existing = contacts.get(req.params[0]!);
          return `contact:${lower(existing?.email ?? obj(req.body).email)}`;
        },
        handle(req) {
          const existing = contacts.get(req.params[0]!);
          if (!existing) return json(404, problem(404, 'Not Found'), 'not_found');
          const body = obj(req.body);
          // Custom field values merge by fieldId (README "Assumptions to verify").
          const values = new Map<string, unknown>((Array.isArray(existing.customFields) ? existing.customFields : []).map((v) => [String(obj(v).fieldId), v]));
          for (const v of Array.isArray(body.customFields) ? body.customFields : []) values.set(String(obj(v).fieldId), v);
          const updated = { ...existing, ...body, customFields: [...values.values()], id: existing.id, modified: new Date().toISOString() };
          contacts.set(existing.id as string, updated);
          return json(200, updated, 'reapplied');
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${P}/custom-field$`),
        kind: 'read',
        handle: () => json(200, collection('customfield-collection', fields), 'read'),
      },
      {
        method: 'POST',
        path: new RegExp(`${P}/note$`),
        kind: 'write',
        // Notes have no key: the same text on the same contact twice is a duplicate the studio sees.
        key: (req) => `note:${String(obj(req.body).contactId)}:${sha256(String(obj(req.body).contentHtml ?? ''))}`,
        handle(req) {
          const body = obj(req.body);
          if (!contacts.has(String(body.contactId))) return json(422, problem(422, 'Unprocessable Entity', 'contactId does not exist'), 'rejected');
          const note = { id: ulid(), contactId: body.contactId, contentHtml: body.contentHtml, date: body.date ?? new Date().toISOString().slice(0, 10), created: new Date().toISOString() };
          notes.set(note.id, note);
          return json(201, note, 'applied');
        },
      },
      { method: 'GET', path: new RegExp(`${P}/studio/me$`), kind: 'read', handle: () => json(200, { id: '01fakestudio', name: 'Fake Studio' }, 'read') },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// Google Calendar v3: client-chosen event ids, 409 on a repeat.

function googleSpec(): ProviderSpec {
  const accessToken = `ya29.fake-${hex(16)}`;
  const events = new Map<string, Record<string, unknown>>();
  /** The change feed behind sync tokens: each event's last change, in order. */
  const changed = new Map<string, number>();
  let sequence = 0;
  const touch = (id: string) => {
    changed.set(id, ++sequence);
    const e = events.get(id);
    if (e) e.updated = new Date().toISOString();
  };
  const error = (code: number, message: string, reason: string) => ({ error: { code, message, errors: [{ domain: 'global', reason, message }] } });
  const E = '^/calendar/v3/calendars/([^/]+)/events';
  return {
    id: 'google-calendar',
    stores: { events },
    touch: (_name, id) => touch(id),
    errorBody: (status) => error(status, status === 404 ? 'Not Found' : 'The service is currently unavailable.', status === 404 ? 'notFound' : 'backendError'),
    integration: () => ({
      provider: 'google-calendar',
      category: 'calendar',
      auth: 'oauth2',
      credentials: { accessToken, refreshToken: `1//fake-${hex(8)}`, expiresAt: Date.now() + 365 * 86_400_000, scope: 'https://www.googleapis.com/auth/calendar.events' },
      settings: { calendarId: 'primary', sendUpdates: 'none' },
    }),
    baseUrl: (url) => url,
    authorize: (req) =>
      bearer(req) === accessToken
        ? undefined
        : json(401, { error: { code: 401, message: 'Request had invalid authentication credentials.', errors: [{ reason: 'authError' }], status: 'UNAUTHENTICATED' } }, 'unauthorized'),
    routes: [
      {
        method: 'POST',
        path: new RegExp(`${E}$`),
        kind: 'write',
        key: (req) => obj(req.body).id as string | undefined,
        handle(req, key) {
          const body = obj(req.body);
          if (key !== undefined && !/^[a-v0-9]{5,1024}$/.test(key)) return json(400, error(400, 'Invalid resource id value.', 'invalid'), 'rejected');
          if (key !== undefined && events.has(key)) return json(409, error(409, 'The requested identifier already exists.', 'duplicate'), 'deduplicated');
          const id = key ?? hex(13);
          const now = new Date().toISOString();
          const event = {
            kind: 'calendar#event',
            etag: `"${Date.now()}"`,
            id,
            status: 'confirmed',
            htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(id).toString('base64url')}`,
            created: now,
            updated: now,
            ...body,
            attendees: Array.isArray(body.attendees) ? body.attendees.map((a) => ({ ...obj(a), responseStatus: 'needsAction' })) : [],
            creator: { email: 'planner@example.com', self: true },
            organizer: { email: 'planner@example.com', self: true },
            iCalUID: `${id}@google.com`,
            sequence: 0,
            reminders: { useDefault: true },
            eventType: 'default',
            calendarId: req.params[0],
          };
          events.set(id, event);
          touch(id);
          return json(200, event, 'applied');
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${E}/([^/]+)$`),
        kind: 'read',
        handle(req) {
          const event = events.get(req.params[1]!);
          return event ? json(200, event, 'read') : json(404, error(404, 'Not Found', 'notFound'), 'not_found');
        },
      },
      {
        method: 'PUT',
        path: new RegExp(`${E}/([^/]+)$`),
        kind: 'write',
        key: (req) => req.params[1],
        handle(req) {
          const existing = events.get(req.params[1]!);
          if (!existing) return json(404, error(404, 'Not Found', 'notFound'), 'not_found');
          const updated = { ...existing, ...obj(req.body), id: existing.id, updated: new Date().toISOString(), sequence: Number(existing.sequence) + 1 };
          events.set(existing.id as string, updated);
          touch(existing.id as string);
          return json(200, updated, 'reapplied');
        },
      },
      {
        method: 'DELETE',
        path: new RegExp(`${E}/([^/]+)$`),
        kind: 'write',
        key: (req) => req.params[1],
        handle(req) {
          const existing = events.get(req.params[1]!);
          if (!existing) return json(404, error(404, 'Not Found', 'notFound'), 'not_found');
          if (existing.status === 'cancelled') return json(410, error(410, 'Resource has been deleted', 'deleted'), 'deduplicated');
          existing.status = 'cancelled';
          touch(existing.id as string);
          return { status: 204, outcome: 'reapplied' };
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${E}$`),
        kind: 'read',
        handle(req) {
          // A full sync without syncToken, or what changed since it; pageToken is an offset here.
          const token = req.query.get('syncToken');
          if (token !== null && !/^s\d+$/.test(token)) return json(410, error(410, 'Sync token is no longer valid, a full sync is required.', 'fullSyncRequired'), 'read');
          const since = token === null ? 0 : Number(token.slice(1));
          const showDeleted = req.query.get('showDeleted') === 'true' || token !== null;
          const all = [...events.values()]
            .filter((e) => changed.get(e.id as string)! > since && (showDeleted || e.status !== 'cancelled'))
            .sort((a, b) => changed.get(a.id as string)! - changed.get(b.id as string)!)
            .map((e) => (e.status === 'cancelled' && token !== null ? { kind: 'calendar#event', id: e.id, status: 'cancelled' } : e));
          const max = Math.min(Math.max(Number(req.query.get('maxResults') ?? 250) || 250, 1), 2500);
          const offset = Number(req.query.get('pageToken') ?? 0) || 0;
          const items = all.slice(offset, offset + max);
          const more = offset + max < all.length;
          return json(200, { kind: 'calendar#events', summary: 'primary', items, ...(more ? { nextPageToken: String(offset + max) } : { nextSyncToken: `s${sequence}` }) }, 'read');
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// Outlook calendars through Microsoft Graph v1.0: transactionId dedupes a repeated POST.

function outlookSpec(): ProviderSpec {
  const accessToken = `eyJ0eXAiOiJKV1QiLCJub25jZSI6ImZha2UifQ.fake-${hex(16)}`;
  const events = new Map<string, Record<string, unknown>>();
  const byTransaction = new Map<string, string>();
  /** The change feed behind delta links: each event's last change (deleted ones too), in order. */
  const changed = new Map<string, number>();
  let sequence = 0;
  let self = '';
  const touch = (id: string) => {
    changed.set(id, ++sequence);
    const e = events.get(id);
    if (e) e.lastModifiedDateTime = new Date().toISOString();
  };
  const error = (code: string, message: string) => ({ error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': crypto.randomUUID() } } });
  const V = '^/v1.0/me';
  const create = (req: FakeRequest, key: string | undefined): Reply => {
    const existingId = key !== undefined ? byTransaction.get(key) : undefined;
    if (existingId) return json(201, events.get(existingId), 'deduplicated');
    const body = obj(req.body);
    const id = `AAMkAD${Buffer.from(crypto.randomBytes(60)).toString('base64url')}`;
    const now = new Date().toISOString();
    const event = {
      '@odata.context': "https://graph.microsoft.com/v1.0/$metadata#users('me')/events/$entity",
      '@odata.etag': `W/"${hex(8)}"`,
      id,
      createdDateTime: now,
      lastModifiedDateTime: now,
      iCalUId: `040000008200E00074C5B7101A82E008${hex(16).toUpperCase()}`,
      isCancelled: false,
      webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(id)}&exvsurl=1&path=/calendar/item`,
      ...body,
      attendees: Array.isArray(body.attendees) ? body.attendees.map((a) => ({ ...obj(a), status: { response: 'none', time: '0001-01-01T00:00:00Z' } })) : [],
      organizer: { emailAddress: { name: 'Planner', address: 'planner@example.com' } },
    };
    events.set(id, event);
    touch(id);
    if (key !== undefined) byTransaction.set(key, id);
    return json(201, event, 'applied');
  };
  return {
    id: 'outlook-calendar',
    stores: { events },
    touch: (_name, id) => touch(id),
    started: (url) => {
      self = url;
    },
    errorBody: (status) => error(status === 404 ? 'ErrorItemNotFound' : 'ServiceNotAvailable', status === 404 ? 'The specified object was not found in the store.' : 'The service is temporarily unavailable.'),
    integration: () => ({
      provider: 'outlook-calendar',
      category: 'calendar',
      auth: 'oauth2',
      credentials: { accessToken, refreshToken: `0.fake-${hex(8)}`, expiresAt: Date.now() + 365 * 86_400_000 },
      settings: {},
    }),
    baseUrl: (url) => `${url}/v1.0`,
    authorize: (req) => (bearer(req) === accessToken ? undefined : json(401, error('InvalidAuthenticationToken', 'Access token validation failure.'), 'unauthorized')),
    routes: [
      { method: 'POST', path: new RegExp(`${V}/events$`), kind: 'write', key: (req) => obj(req.body).transactionId as string | undefined, handle: create },
      { method: 'POST', path: new RegExp(`${V}/calendars/([^/]+)/events$`), kind: 'write', key: (req) => obj(req.body).transactionId as string | undefined, handle: create },
      {
        method: 'PATCH',
        path: new RegExp(`${V}/events/([^/]+)$`),
        kind: 'write',
        key: (req) => events.get(req.params[0]!)?.transactionId as string | undefined,
        handle(req) {
          const existing = events.get(req.params[0]!);
          if (!existing) return json(404, error('ErrorItemNotFound', 'The specified object was not found in the store.'), 'not_found');
          Object.assign(existing, obj(req.body));
          touch(req.params[0]!);
          return json(200, existing, 'reapplied');
        },
      },
      {
        method: 'POST',
        path: new RegExp(`${V}/events/([^/]+)/cancel$`),
        kind: 'write',
        key: (req) => events.get(req.params[0]!)?.transactionId as string | undefined,
        handle(req) {
          const existing = events.get(req.params[0]!);
          if (!existing) return json(404, error('ErrorItemNotFound', 'The specified object was not found in the store.'), 'not_found');
          existing.isCancelled = true;
          touch(req.params[0]!);
          return { status: 202, outcome: 'reapplied' };
        },
      },
      {
        method: 'DELETE',
        path: new RegExp(`${V}/events/([^/]+)$`),
        kind: 'write',
        key: (req) => events.get(req.params[0]!)?.transactionId as string | undefined,
        handle(req) {
          if (!events.delete(req.params[0]!)) return json(404, error('ErrorItemNotFound', 'The specified object was not found in the store.'), 'not_found');
          touch(req.params[0]!);
          return { status: 204, outcome: 'reapplied' };
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${V}(?:/calendars/[^/]+)?/calendarView/delta$`),
        kind: 'read',
        handle(req) {
          // A round: startDateTime/endDateTime first, then $skiptoken pages, ending with a $deltatoken link.
          const skip = req.query.get('$skiptoken');
          const delta = req.query.get('$deltatoken');
          if (delta !== null && !/^\d+$/.test(delta)) return json(410, error('SyncStateNotFound', 'The sync state is not found.'), 'read');
          const [offset, since, upto] = skip ? skip.split('_').map(Number) as [number, number, number] : [0, delta === null ? 0 : Number(delta), sequence];
          const size = Number(/odata\.maxpagesize=(\d+)/.exec(String(req.headers.prefer ?? ''))?.[1] ?? 100);
          const ids = [...changed.entries()].filter(([, n]) => n > since && n <= upto).sort((a, b) => a[1] - b[1]).map(([id]) => id);
          const value = ids.slice(offset, offset + size).map((id) => events.get(id) ?? { id, '@removed': { reason: 'deleted' } });
          const link = `${self}/v1.0/me/calendarView/delta`;
          const more = offset + size < ids.length;
          return json(200, { value, ...(more ? { '@odata.nextLink': `${link}?$skiptoken=${offset + size}_${since}_${upto}` } : { '@odata.deltaLink': `${link}?$deltatoken=${upto}` }) }, 'read');
        },
      },
      { method: 'GET', path: new RegExp(`${V}/calendars$`), kind: 'read', handle: () => json(200, { value: [{ id: 'AAMkADcalendar' }] }, 'read') },
      { method: 'GET', path: new RegExp(`${V}/calendars/([^/]+)$`), kind: 'read', handle: (req) => json(200, { id: req.params[0] }, 'read') },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// Mailchimp Marketing API 3.0: members by subscriber hash, tags, Customer Journey triggers.

function mailchimpSpec(opts: FakeOptions): ProviderSpec {
  const apiKey = `${hex(16)}-us6`;
  const listId = 'a1b2c3d4e5';
  const sequences = { welcome: { journeyId: 101, stepId: 201 }, 're-engagement': { journeyId: 102, stepId: 202 } };
  const members = new Map<string, Record<string, unknown>>();
  const entered = new Set<string>();
  const admitsOnce = opts.journeyAdmitsOnce ?? true;
  const problem = (status: number, title: string, detail: string) => ({
    type: 'https://mailchimp.com/developer/marketing/docs/errors/',
    title,
    status,
    detail,
    instance: crypto.randomUUID(),
  });
  const reply = (status: number, body: unknown, outcome: CallOutcome) => json(status, body, outcome, { 'content-type': status >= 400 ? 'application/problem+json; charset=utf-8' : 'application/json; charset=utf-8' });
  const L = '^/3.0/lists/([^/]+)';
  return {
    id: 'mailchimp',
    stores: { members },
    touch: (_name, id) => {
      const m = members.get(id);
      if (m) m.last_changed = new Date().toISOString();
    },
    errorBody: (status) => problem(status, status === 404 ? 'Resource Not Found' : 'Service Unavailable', status === 404 ? 'The requested resource could not be found.' : 'Please try again later.'),
    integration: () => ({
      provider: 'mailchimp',
      category: 'email',
      auth: 'api-key',
      credentials: { apiKey },
      settings: { listId, sequences },
    }),
    baseUrl: (url) => `${url}/3.0`,
    authorize: (req) => (basic(req)?.[1] === apiKey ? undefined : reply(401, problem(401, 'API Key Invalid', 'Your API key may be invalid, or you have attempted to access the wrong datacenter.'), 'unauthorized')),
    routes: [
      {
        method: 'PUT',
        path: new RegExp(`${L}/members/([0-9a-f]{32})$`),
        kind: 'write',
        key: (req) => `member:${req.params[0]}:${req.params[1]}`,
        handle(req) {
          const [list, hash] = req.params as [string, string];
          if (list !== listId) return reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), 'not_found');
          const body = obj(req.body);
          if (md5(lower(body.email_address)) !== hash) return reply(400, problem(400, 'Invalid Resource', 'The subscriber hash does not match the email address.'), 'rejected');
          const existing = members.get(hash);
          const now = new Date().toISOString();
          const member = {
            id: hash,
            email_address: String(body.email_address).trim(),
            unique_email_id: existing?.unique_email_id ?? hex(5),
            contact_id: existing?.contact_id ?? hex(16),
            web_id: existing?.web_id ?? Number.parseInt(hex(3), 16),
            email_type: 'html',
            status: existing?.status ?? body.status_if_new ?? 'subscribed',
            merge_fields: { ...obj(existing?.merge_fields), ...obj(body.merge_fields) },
            list_id: listId,
            timestamp_signup: existing?.timestamp_signup ?? now,
            last_changed: now,
            tags: existing?.tags ?? [],
          };
          members.set(hash, member);
          return reply(200, member, existing ? 'reapplied' : 'applied');
        },
      },
      {
        method: 'POST',
        path: new RegExp(`${L}/members/([0-9a-f]{32})/tags$`),
        kind: 'write',
        key: (req) => `tags:${req.params[0]}:${req.params[1]}`,
        handle(req) {
          const member = members.get(req.params[1]!);
          if (req.params[0] !== listId || !member) return reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), 'not_found');
          const tags = new Set(member.tags as string[]);
          for (const t of (obj(req.body).tags as { name: string; status: string }[] | undefined) ?? []) {
            if (t.status === 'active') tags.add(t.name);
            else tags.delete(t.name);
          }
          member.tags = [...tags];
          member.last_changed = new Date().toISOString();
          return { status: 204, outcome: 'reapplied' };
        },
      },
      {
        method: 'POST',
        path: /^\/3\.0\/customer-journeys\/journeys\/([^/]+)\/steps\/([^/]+)\/actions\/trigger$/,
        kind: 'write',
        key: (req) => `journey:${req.params[0]}/${req.params[1]}:${lower(obj(req.body).email_address)}`,
        handle(req, key) {
          const known = Object.values(sequences).some((s) => String(s.journeyId) === req.params[0] && String(s.stepId) === req.params[1]);
          if (!known) return reply(404, problem(404, 'Resource Not Found', 'The requested journey step could not be found.'), 'not_found');
          if (!members.has(md5(lower(obj(req.body).email_address)))) {
            return reply(400, problem(400, 'Bad Request', 'The contact is not in the journey\'s audience.'), 'rejected');
          }
          if (entered.has(key!) && admitsOnce) return { status: 204, outcome: 'deduplicated' };
          entered.add(key!);
          return { status: 204, outcome: 'applied' };
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${L}/members$`),
        kind: 'read',
        handle(req) {
          if (req.params[0] !== listId) return reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), 'not_found');
          // count (at most 1000) and offset, members changed since since_last_changed, oldest change first.
          const count = Math.min(Math.max(Number(req.query.get('count') ?? 10) || 10, 1), 1000);
          const offset = Math.max(0, Number(req.query.get('offset') ?? 0) || 0);
          const since = req.query.get('since_last_changed');
          const all = [...members.values()].filter((m) => !since || Date.parse(String(m.last_changed)) > Date.parse(since));
          all.sort((a, b) => String(a.last_changed).localeCompare(String(b.last_changed)) || String(a.id).localeCompare(String(b.id)));
          const page = all.slice(offset, offset + count).map((m) => ({ ...m, tags: (m.tags as string[]).map((name, i) => ({ id: i + 1, name })) }));
          return reply(200, { members: page, list_id: listId, total_items: all.length }, 'read');
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${L}$`),
        kind: 'read',
        handle: (req) =>
          req.params[0] === listId
            ? reply(200, { id: listId, web_id: 1, name: 'Fake couples', stats: { member_count: members.size } }, 'read')
            : reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), 'not_found'),
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// Stripe: customers, Idempotency-Key replay with a parameter check.

function stripeSpec(): ProviderSpec {
  const secretKey = `sk_test_fake${hex(12)}`;
  const customers = new Map<string, Record<string, unknown>>();
  /** Newest first, as Stripe lists: a sequence, since many customers share a `created` second. */
  const order = new Map<string, number>();
  let sequence = 0;
  const events: Record<string, unknown>[] = [];
  const emit = (type: 'customer.created' | 'customer.updated', customer: Record<string, unknown>) => {
    events.unshift({ id: `evt_${alnum(24)}`, object: 'event', type, created: Math.floor(Date.now() / 1000), data: { object: { ...customer } } });
  };
  /** A page of a list newest first, after `starting_after`, up to `limit`. */
  const pageOf = <T extends Record<string, unknown>>(all: T[], req: FakeRequest, url: string) => {
    const limit = Math.min(Math.max(Number(req.query.get('limit') ?? 10) || 10, 1), 100);
    const after = req.query.get('starting_after');
    const start = after ? all.findIndex((x) => x.id === after) + 1 : 0;
    const data = all.slice(start, start + limit);
    return { object: 'list', url, has_more: start + limit < all.length, data };
  };
  const keys = new Map<string, { fingerprint: string; status: number; body: unknown }>();
  const error = (type: string, message: string, extra: Record<string, unknown> = {}) => ({ error: { type, message, ...extra } });
  const idempotent = (req: FakeRequest, key: string | undefined, write: () => Reply): Reply => {
    const fingerprint = `${req.method} ${req.path} ${req.raw}`;
    if (key !== undefined) {
      const prior = keys.get(key);
      if (prior && prior.fingerprint !== fingerprint) {
        return json(400, error('idempotency_error', `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`), 'rejected');
      }
      if (prior) return json(prior.status, prior.body, 'deduplicated', { 'idempotent-replayed': 'true', 'idempotency-key': key });
    }
    const reply = write();
    if (key !== undefined && reply.status < 500) keys.set(key, { fingerprint, status: reply.status, body: reply.body });
    return { ...reply, headers: { ...reply.headers, ...(key !== undefined ? { 'idempotency-key': key } : {}) } };
  };
  const merge = (metadata: unknown, into: Record<string, unknown>) => {
    const out = { ...into };
    for (const [k, v] of Object.entries(obj(metadata))) {
      if (v === '') delete out[k];
      else out[k] = v;
    }
    return out;
  };
  return {
    id: 'stripe',
    stores: { customers },
    touch: (_name, id) => {
      const c = customers.get(id);
      if (!c) return;
      if (!order.has(id)) order.set(id, ++sequence);
      emit('customer.updated', c);
    },
    errorBody: (status) => error('api_error', status === 404 ? 'Unrecognized request URL.' : 'Stripe is temporarily unavailable.'),
    integration: () => ({ provider: 'stripe', category: 'payment', auth: 'api-key', credentials: { secretKey }, settings: {} }),
    baseUrl: (url) => url,
    authorize: (req) =>
      bearer(req) === secretKey ? undefined : json(401, error('invalid_request_error', `Invalid API Key provided: ${String(bearer(req) ?? '').slice(0, 8)}****`), 'unauthorized'),
    routes: [
      {
        method: 'GET',
        path: /^\/v1\/customers$/,
        kind: 'read',
        handle(req) {
          const email = req.query.get('email');
          const data = [...customers.values()].filter((c) => email === null || c.email === email).sort((a, b) => order.get(b.id as string)! - order.get(a.id as string)!);
          return json(200, pageOf(data, req, '/v1/customers'), 'read');
        },
      },
      {
        method: 'POST',
        path: /^\/v1\/customers$/,
        kind: 'write',
        key: (req) => req.headers['idempotency-key'] as string | undefined,
        handle: (req, key) =>
          idempotent(req, key, () => {
            const body = obj(req.body);
            const customer = {
              id: `cus_${alnum(14)}`,
              object: 'customer',
              address: null,
              balance: 0,
              created: Math.floor(Date.now() / 1000),
              currency: null,
              default_source: null,
              delinquent: false,
              description: null,
              email: body.email ?? null,
              invoice_prefix: alnum(8).toUpperCase(),
              invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
              livemode: false,
              metadata: merge(body.metadata, {}),
              name: body.name ?? null,
              phone: body.phone ?? null,
              preferred_locales: [],
              shipping: null,
              tax_exempt: 'none',
              test_clock: null,
            };
            customers.set(customer.id, customer);
            order.set(customer.id, ++sequence);
            emit('customer.created', customer);
            return json(200, customer, 'applied');
          }),
      },
      {
        method: 'POST',
        path: /^\/v1\/customers\/([^/]+)$/,
        kind: 'write',
        key: (req) => req.headers['idempotency-key'] as string | undefined,
        handle: (req, key) =>
          idempotent(req, key, () => {
            const existing = customers.get(req.params[0]!);
            if (!existing) return json(404, error('invalid_request_error', `No such customer: '${req.params[0]}'`, { code: 'resource_missing', param: 'id' }), 'not_found');
            const body = obj(req.body);
            const updated = { ...existing, ...body, metadata: merge(body.metadata, obj(existing.metadata)) };
            customers.set(existing.id as string, updated);
            emit('customer.updated', updated);
            return json(200, updated, 'applied');
          }),
      },
      {
        method: 'GET',
        path: /^\/v1\/events$/,
        kind: 'read',
        handle(req) {
          const types = [...req.query.entries()].filter(([k]) => /^types\[\d*\]$/.test(k)).map(([, v]) => v);
          const after = Number(req.query.get('created[gt]') ?? 0);
          const all = events.filter((e) => (types.length === 0 || types.includes(String(e.type))) && Number(e.created) > after);
          return json(200, pageOf(all, req, '/v1/events'), 'read');
        },
      },
      {
        method: 'GET',
        path: /^\/v1\/customers\/([^/]+)$/,
        kind: 'read',
        handle(req) {
          const c = customers.get(req.params[0]!);
          return c ? json(200, c, 'read') : json(404, error('invalid_request_error', `No such customer: '${req.params[0]}'`, { code: 'resource_missing', param: 'id' }), 'not_found');
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// Twilio Programmable Messaging (2010-04-01): no idempotency key; a repeat is a second text.

function twilioSpec(): ProviderSpec {
  const accountSid = `AC${hex(16)}`;
  const authToken = hex(16);
  const from = '+15005550006';
  const messages: Record<string, unknown>[] = [];
  const error = (status: number, code: number, message: string) => ({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
  const A = '^/2010-04-01/Accounts/([^/]+)';
  const notFound = () => json(404, error(404, 20404, 'The requested resource was not found'), 'not_found');
  return {
    id: 'twilio',
    errorBody: (status) => (status === 404 ? error(404, 20404, 'The requested resource was not found') : error(status, 20500, 'Internal Server Error')),
    integration: () => ({
      provider: 'twilio',
      category: 'sms',
      auth: 'api-key',
      credentials: { accountSid, authToken },
      settings: { from },
      routes: { sms_welcome_enabled: true },
    }),
    baseUrl: (url) => url,
    authorize(req) {
      const [user, password] = basic(req) ?? [];
      return user === accountSid && password === authToken ? undefined : json(401, error(401, 20003, 'Authenticate'), 'unauthorized');
    },
    routes: [
      {
        method: 'POST',
        path: new RegExp(`${A}/Messages\\.json$`),
        kind: 'write',
        key: (req) => {
          const b = obj(req.body);
          return `${String(b.To)}|${String(b.From ?? b.MessagingServiceSid)}|${String(b.Body)}`;
        },
        handle(req) {
          if (req.params[0] !== accountSid) return notFound();
          const b = obj(req.body);
          if (typeof b.To !== 'string' || !/^\+[1-9]\d{6,14}$/.test(b.To)) return json(400, error(400, 21211, `The 'To' number ${String(b.To)} is not a valid phone number.`), 'rejected');
          if (typeof b.Body !== 'string' || b.Body === '') return json(400, error(400, 21602, 'Message body is required.'), 'rejected');
          const now = Date.now();
          const sid = `SM${hex(16)}`;
          const message = {
            account_sid: accountSid,
            api_version: '2010-04-01',
            body: b.Body,
            date_created: rfc2822(now),
            date_sent: null as string | null,
            date_updated: rfc2822(now),
            direction: 'outbound-api',
            error_code: null,
            error_message: null,
            from: (b.From as string | undefined) ?? null,
            messaging_service_sid: (b.MessagingServiceSid as string | undefined) ?? null,
            num_media: '0',
            num_segments: '1',
            price: null,
            price_unit: 'USD',
            sid,
            status: 'queued',
            subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
            to: b.To,
            uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
          };
          // Answered as queued; by the next read it has gone out (a sender without a backlog).
          messages.unshift({ ...message, status: 'sent', date_sent: rfc2822(now) });
          return json(201, message, 'applied');
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${A}/Messages\\.json$`),
        kind: 'read',
        handle(req) {
          if (req.params[0] !== accountSid) return notFound();
          const to = req.query.get('To');
          const sender = req.query.get('From');
          const after = req.query.get('DateSent>');
          const pageSize = Number(req.query.get('PageSize') ?? 50);
          const day = (rfc: unknown) => (typeof rfc === 'string' ? new Date(Date.parse(rfc)).toISOString().slice(0, 10) : undefined);
          const found = messages.filter((m) => (!to || m.to === to) && (!sender || m.from === sender) && (!after || (day(m.date_sent) ?? '') >= after));
          const uri = `/2010-04-01/Accounts/${accountSid}/Messages.json?PageSize=${pageSize}&Page=0`;
          return json(200, { messages: found.slice(0, pageSize), end: Math.min(found.length, pageSize) - 1, first_page_uri: uri, next_page_uri: null, page: 0, page_size: pageSize, previous_page_uri: null, start: 0, uri }, 'read');
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${A}/Messages/([^/]+)\\.json$`),
        kind: 'read',
        handle(req) {
          const m = req.params[0] === accountSid ? messages.find((x) => x.sid === req.params[1]) : undefined;
          return m ? json(200, m, 'read') : notFound();
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${A}\\.json$`),
        kind: 'read',
        handle: (req) => (req.params[0] === accountSid ? json(200, { sid: accountSid, friendly_name: 'Fake account', status: 'active', type: 'Full' }, 'read') : notFound()),
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------

const SPECS: Record<FakeProviderId, (opts: FakeOptions) => ProviderSpec> = {
  honeybook: honeybookSpec,
  tave: taveSpec,
  'google-calendar': googleSpec,
  'outlook-calendar': outlookSpec,
  mailchimp: mailchimpSpec,
  stripe: stripeSpec,
  twilio: twilioSpec,
  pocketsuite: pocketsuiteSpec,
  'apple-calendar': appleSpec,
  square: squareSpec,
  paypal: paypalSpec,
  kit: kitSpec,
  activecampaign: activecampaignSpec,
  vonage: vonageSpec,
  bird: birdSpec,
};

/** One fake, not yet started. */
export function createFakeProvider(id: FakeProviderId, opts: FakeOptions = {}): FakeProvider {
  return createFake(SPECS[id](opts), opts);
}

export interface FakeProviders {
  /** By provider id (the registry's ids). */
  byId: Partial<Record<FakeProviderId, FakeProvider>>;
  list: FakeProvider[];
  get(id: FakeProviderId): FakeProvider;
  /** Every fake's calls, merged in arrival order. */
  calls(): RecordedCall[];
  inFlight(): RecordedCall[];
  summary(): string;
  close(): Promise<void>;
}

/**
 * The deployment configuration that sends each fake's provider to it: CONNECTOR_BASE_URLS, and
 * OUTBOUND_ALLOWED_NETWORKS for the loopback address the fakes listen on. Give it to the API and the
 * worker alike (the API checks account addresses and runs connection tests through the same rules).
 */
export function deploymentEnv(fakes: readonly FakeProvider[]): Record<string, string> {
  return {
    CONNECTOR_BASE_URLS: fakes.map((f) => `${f.id}=${f.deploymentBaseUrl}`).join(','),
    OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1/32',
  };
}

/** Starts the fakes (all of them unless `only` says which); each has `.integration` with credentials and settings. */
export async function startFakeProviders(opts: FakeOptions & { only?: FakeProviderId[] } = {}): Promise<FakeProviders> {
  const ids = opts.only ?? [...FAKE_PROVIDER_IDS];
  const list = ids.map((id) => createFakeProvider(id, opts));
  try {
    await Promise.all(list.map((f) => f.start()));
  } catch (err) {
    await Promise.all(list.map((f) => f.close()));
    throw err;
  }
  const byId = Object.fromEntries(list.map((f) => [f.id, f])) as Partial<Record<FakeProviderId, FakeProvider>>;
  return {
    byId,
    list,
    get(id) {
      const f = byId[id];
      if (!f) throw new Error(`fake ${id} was not started`);
      return f;
    },
    calls: () => list.flatMap((f) => f.calls()).sort((a, b) => a.receivedAt - b.receivedAt || a.seq - b.seq),
    inFlight: () => list.flatMap((f) => f.inFlight()),
    summary: () => list.map((f) => f.summary()).join('\n'),
    close: async () => {
      await Promise.all(list.map((f) => f.close()));
    },
  };
}

/**
 * Creates one integration per fake in an organisation: through `POST /api/integrations` (admin token)
 * for key and webhook providers, and straight into the table for OAuth providers, whose tokens the API
 * only takes from a consent screen (the worker then needs GOOGLE_/MICROSOFT_OAUTH_CLIENT_ID and _SECRET
 * set, to any value: the fake's tokens never expire, so no refresh is made). Route overrides the API does
 * not take (`routes`, e.g. Twilio's SMS welcome) are written into the row's settings. Returns the ids.
 */
export async function connectFakeIntegrations(opts: {
  apiUrl: string;
  adminToken: string;
  orgId: string;
  /** Owner connection (OAuth rows and route overrides bypass the API). */
  db: Knex;
  /** The keyring the API and worker use, to seal OAuth credentials. */
  box: SecretBox;
  fakes: FakeProvider[];
  /** Extra body fields per provider (`field_mapping`, `enabled_events`, `time_zone`). */
  extra?: Partial<Record<FakeProviderId, Record<string, unknown>>>;
}): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const fake of opts.fakes) {
    const spec = fake.integration;
    const extra = opts.extra?.[spec.provider] ?? {};
    let id: string;
    if (spec.auth === 'oauth2') {
      id = crypto.randomUUID();
      await insertIntegration(opts.db, opts.box, {
        id,
        organizationId: opts.orgId,
        type: spec.category,
        provider: spec.provider,
        settings: {
          provider: spec.settings,
          field_mapping: (extra.field_mapping as Record<string, string> | undefined) ?? {},
          enabled_events: (extra.enabled_events as string[] | undefined) ?? [],
          ...(typeof extra.time_zone === 'string' ? { time_zone: extra.time_zone } : {}),
        },
        credentials: spec.credentials,
        isActive: true,
      });
    } else {
      const res = await fetch(`${opts.apiUrl}/api/integrations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ provider: spec.provider, credentials: spec.credentials, settings: spec.settings, ...extra }),
      });
      const body = (await res.json()) as { integration?: { id: string } };
      if (res.status !== 201 || !body.integration) throw new Error(`POST /api/integrations ${spec.provider}: ${res.status} ${JSON.stringify(body)}`);
      id = body.integration.id;
    }
    if (spec.routes) {
      await opts.db('organization_integrations')
        .where({ id })
        .update({ settings: opts.db.raw(`jsonb_set(settings, '{routes}', CAST(? AS jsonb))`, [JSON.stringify(spec.routes)]) });
    }
    ids[spec.provider] = id;
  }
  return ids;
}
