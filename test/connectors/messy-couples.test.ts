import { useNock } from '../support/nock';
import { createHash } from 'node:crypto';
import nock from 'nock';
import type { CalendarConnector, CategoryConnectors, CrmConnector, EmailConnector, PaymentConnector, Person, SmsConnector } from '../../connectors/contracts';
import { ConnectorError } from '../../connectors/errors';
import { fullName, normalizeEmail, parsePhone } from '../../connectors/normalize';
import { registry } from '../../connectors/registry';
import { unfoldIcs } from '../fakes/apple';
import { context, memoryGuard, staticOAuth } from '../support/connectors';
import { parseForm } from '../support/fake-core';
import { MESSY_COUPLES } from '../support/messy-couples';

/**
 * Issue 14, "Real-world input": every connector gets the same messy couples (test/support/messy-couples.ts)
 * through every method of its category's contract, with nock answering and recording each request, and
 * every recorded request is checked against the vendor's limits in the table below: lengths, E.164
 * where the vendor wants it, one lower-cased form of the email where the vendor matches it exactly (or
 * keys a record by it), single-line text where the vendor's field is a line. Where a vendor documents
 * no limit, the row says so and checks the cap the connector's README lists as an assumption to verify.
 *
 * Nothing may throw, except where the vendor cannot take the input at all: a text message to a couple
 * with no phone number that can be dialled fails as a non-retryable `bad_request`, and nothing is sent.
 */

useNock();

// ---------------------------------------------------------------------------------------------------
// Recording and reading requests.

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  /** JSON, form (brackets nested) or iCalendar (see Ics), as the content type says. */
  body: unknown;
  raw: string;
}

interface Ics {
  /** Physical lines, as sent (folded). */
  lines: string[];
  /** First value of each VEVENT property, unescaped. */
  props: Record<string, string>;
  attendees: { address: string; cn?: string }[];
}

function parseIcs(raw: string): Ics {
  const unescape = (v: string) => v.replace(/\\n/gi, '\n').replace(/\\([,;\\])/g, '$1');
  const props: Record<string, string> = {};
  const attendees: Ics['attendees'] = [];
  for (const line of unfoldIcs(raw)) {
    const colon = line.search(/:(?=(?:[^"]*"[^"]*")*[^"]*$)/);
    const [name, ...params] = line.slice(0, colon).split(';');
    const value = line.slice(colon + 1);
    if (name === 'ATTENDEE') {
      const cn = /CN="([^"]*)"/.exec(params.join(';'))?.[1] ?? /CN=([^;]*)/.exec(params.join(';'))?.[1];
      attendees.push({ address: value.replace(/^mailto:/i, ''), ...(cn !== undefined ? { cn } : {}) });
    } else if (name) props[name] ??= unescape(value);
  }
  return { lines: raw.split('\r\n'), props, attendees };
}

function parseRecorded(method: string, uri: string, headers: Record<string, string>, body: unknown): Recorded {
  const url = new URL(uri, 'https://vendor.invalid');
  const raw = typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
  const type = headers['content-type'] ?? '';
  let parsed: unknown = raw;
  if (type.includes('json') && raw) parsed = JSON.parse(raw);
  else if (type.includes('x-www-form-urlencoded')) parsed = parseForm(raw);
  else if (type.includes('text/calendar')) parsed = parseIcs(raw);
  return { method, path: url.pathname, query: url.searchParams, headers, body: parsed, raw };
}

/**
 * The values at `field` in a request: a dotted path into the body (`[]` steps into every element of an
 * array, `*` into every value of an object), `?name` a query parameter, `@path` the path itself,
 * `header:name` a header.
 */
function valuesAt(req: Recorded, field: string): unknown[] {
  if (field === '@path') return [req.path];
  if (field.startsWith('?')) return req.query.getAll(field.slice(1));
  if (field.startsWith('header:')) return req.headers[field.slice(7)] !== undefined ? [req.headers[field.slice(7)]] : [];
  let current: unknown[] = [req.body];
  for (const step of field.split('.')) {
    const next: unknown[] = [];
    for (const value of current) {
      if (value === null || typeof value !== 'object') continue;
      const record = value as Record<string, unknown>;
      if (step === '*') next.push(...Object.values(record));
      else if (step.endsWith('[]')) {
        const list = record[step.slice(0, -2)];
        if (Array.isArray(list)) next.push(...list);
      } else if (record[step] !== undefined) next.push(record[step]);
    }
    current = next;
  }
  return current;
}

/** Every string anywhere in a parsed body. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

// ---------------------------------------------------------------------------------------------------
// The checks a limit is made of.

interface Check {
  name: string;
  /** Undefined when the value is within the limit, else why not. */
  test(value: unknown, couple: Person): string | undefined;
}

const str = (v: unknown) => (typeof v === 'string' ? v : String(v));
const max = (n: number): Check => ({ name: `at most ${n} characters`, test: (v) => (str(v).length <= n ? undefined : `${str(v).length} characters`) });
const nonEmpty: Check = { name: 'not empty', test: (v) => (str(v).trim() !== '' ? undefined : 'empty') };
const oneLine: Check = { name: 'one line', test: (v) => (/[\r\n\t]/.test(str(v)) ? 'contains a line break or tab' : undefined) };
const trimmed: Check = { name: 'no surrounding white space', test: (v) => (str(v) === str(v).trim() ? undefined : 'untrimmed') };
const e164: Check = { name: 'E.164', test: (v) => (/^\+[1-9]\d{6,14}$/.test(str(v)) ? undefined : `${str(v)} is not E.164`) };
const e164Digits: Check = { name: 'E.164 digits without +', test: (v) => (/^[1-9]\d{6,14}$/.test(str(v)) ? undefined : `${str(v)} is not E.164 digits`) };
const hasPhone = (p: Person) => parsePhone(p.phone) !== undefined;
/** For vendors that take a phone as typed when it does not parse, and E.164 when it does. */
const e164IfItParses: Check = { name: 'E.164 when the typed number parses', test: (v, couple) => (hasPhone(couple) ? e164.test(v, couple) : undefined) };
const digits: Check = { name: 'digits only', test: (v) => (/^\d+$/.test(str(v)) ? undefined : `${str(v)} is not digits`) };
const printableAscii = (n: number): Check => ({ name: `1 to ${n} printable ASCII characters`, test: (v) => (new RegExp(`^[\\x20-\\x7e]{1,${n}}$`).test(str(v)) ? undefined : `not 1-${n} printable ASCII`) });
/** The couple's email in the one form every write and lookup uses: trimmed, NFC, lower case. */
const theEmail: Check = {
  name: "the couple's email, lower-cased",
  test: (v, couple) => (str(v) === normalizeEmail(couple.email) ? undefined : `${str(v)} is not ${normalizeEmail(couple.email)}`),
};
const md5OfEmail: Check = {
  name: 'ends in the MD5 of the lower-cased email',
  test: (v, couple) => (str(v).endsWith(createHash('md5').update(normalizeEmail(couple.email)).digest('hex')) ? undefined : `${str(v)} is not the subscriber hash`),
};
const octets = (n: number): Check => ({ name: `at most ${n} octets`, test: (v) => (Buffer.byteLength(str(v), 'utf8') <= n ? undefined : `${Buffer.byteLength(str(v), 'utf8')} octets`) });

const hasName = (p: Person) => fullName(p) !== undefined;
const hasFirst = (p: Person) => (p.firstName ?? '').trim() !== '';
const hasLast = (p: Person) => (p.lastName ?? '').trim() !== '';

interface Limit {
  /** Which requests: a pattern for `METHOD /path`, or a test of the whole request. */
  on: RegExp | ((req: Recorded) => boolean);
  field: string;
  checks: Check[];
  /** The field must be in every matching request for a couple for whom this holds. */
  requiredWhen?: (couple: Person) => boolean;
  /** Where the limit comes from. */
  source: string;
}

// ---------------------------------------------------------------------------------------------------
// Per vendor: how its connector is built, what nock answers, and its documented limits.

type Reply = [number, unknown, Record<string, string>?];

interface Vendor {
  provider: string;
  origins: string[];
  credentials: Record<string, unknown>;
  settings: Record<string, unknown>;
  respond(req: Recorded): Reply;
  limits: Limit[];
}

const JSON_TYPE = { 'content-type': 'application/json' };
const HOOK = { hookUrl: 'https://hooks.zapier.com/hooks/catch/123/abc/', signingSecret: 's'.repeat(32) };
const zapier = (): Reply => [200, { status: 'success', request_id: 'req-1' }, JSON_TYPE];
const always = () => true;

/** A catch-hook post that carries a person: every event but the ping. */
const hookWrite = (req: Recorded) => req.method === 'POST' && req.path.startsWith('/hooks/catch/') && (req.body as { event?: string }).event !== 'ping';

/** The catch-hook envelope's person fields (HoneyBook `data.person`, PocketSuite `data.client`). */
function hookPersonLimits(at: string, name: number, full: number, source: string): Limit[] {
  const on = hookWrite;
  return [
    { on, field: `${at}.email`, checks: [theEmail], requiredWhen: always, source },
    { on, field: `${at}.first_name`, checks: [max(name), oneLine, trimmed, nonEmpty], requiredWhen: hasFirst, source },
    { on, field: `${at}.last_name`, checks: [max(name), oneLine, trimmed, nonEmpty], requiredWhen: hasLast, source },
    { on, field: `${at}.full_name`, checks: [max(full), oneLine, trimmed], requiredWhen: hasName, source },
    { on, field: `${at}.phone_extension`, checks: [digits], source },
  ];
}

const multistatus = (responses: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">${responses}</multistatus>`;
const davResponse = (href: string, props: string) => `<response><href>${href}</href><propstat><prop>${props}</prop><status>HTTP/1.1 200 OK</status></propstat></response>`;

const VENDORS: Vendor[] = [
  {
    provider: 'honeybook',
    origins: ['https://hooks.zapier.com'],
    credentials: HOOK,
    settings: {},
    respond: zapier,
    limits: [
      ...hookPersonLimits('data.person', 255, 511, 'HoneyBook publishes no lengths; its client form fields are single lines (README "Assumptions to verify": 255, full name 511)'),
      { on: hookWrite, field: 'data.person.phone', checks: [max(64), oneLine, e164IfItParses], requiredWhen: (p) => (p.phone ?? '').trim() !== '', source: 'E.164 when the number parses, else as typed within 64 (README)' },
    ],
  },
  {
    provider: 'pocketsuite',
    origins: ['https://hooks.zapier.com'],
    credentials: HOOK,
    settings: {},
    respond: zapier,
    limits: [
      ...hookPersonLimits('data.client', 255, 255, 'PocketSuite publishes no lengths (README "Assumptions to verify": 255)'),
      { on: hookWrite, field: 'data.client.phone', checks: [e164], requiredWhen: hasPhone, source: "PocketSuite's Zapier client phone: E.164 (README)" },
      { on: hookWrite, field: 'data.client.phone_national', checks: [digits], requiredWhen: hasPhone, source: 'the national number PocketSuite shows (README)' },
      { on: hookWrite, field: 'data.note', checks: [max(5000)], source: 'PocketSuite client notes (README "Assumptions to verify": 5,000)' },
      { on: hookWrite, field: 'data.client_id', checks: [theEmail], requiredWhen: always, source: 'the Zap finds the client by email' },
    ],
  },
  {
    provider: 'tave',
    origins: ['https://workspace.vsco.co'],
    credentials: { apiKey: 'tave-key' },
    settings: {},
    respond(req) {
      const at = `${req.method} ${req.path}`;
      if (at === 'GET /api/v2/address-book') return [200, { items: [] }, JSON_TYPE];
      if (at === 'POST /api/v2/address-book') return [201, { id: '01hcontact0000000000000000', kind: 'person' }, JSON_TYPE];
      if (at.startsWith('PUT /api/v2/address-book/')) return [200, { id: '01hcontact0000000000000000', kind: 'person' }, JSON_TYPE];
      if (at === 'GET /api/v2/custom-field') {
        return [200, { items: ['Tour rating', 'Tour name', 'Tour completed at'].map((name, i) => ({ id: `01hfield${i}`, name, canApplyTo: 'contact' })) }, JSON_TYPE];
      }
      if (at === 'POST /api/v2/note') return [201, { id: '01hnote000000000000000000' }, JSON_TYPE];
      return [200, { id: '01hstudio', name: 'Studio' }, JSON_TYPE];
    },
    limits: [
      { on: /^(POST|PUT) \/api\/v2\/address-book/, field: 'email', checks: [theEmail], source: 'https://workspace.vsco.co/api (Person.email); one form per person, as the email filter finds it' },
      { on: /^POST \/api\/v2\/address-book$/, field: 'email', checks: [], requiredWhen: always, source: 'a new contact carries the email' },
      { on: /^GET \/api\/v2\/address-book$/, field: '?email', checks: [theEmail], requiredWhen: always, source: 'GET /address-book?email=' },
      { on: /^(POST|PUT) \/api\/v2\/address-book/, field: 'firstName', checks: [max(48), oneLine, trimmed, nonEmpty], source: 'https://workspace.vsco.co/api, schema Person: firstName maxLength 48' },
      { on: /^(POST|PUT) \/api\/v2\/address-book/, field: 'lastName', checks: [max(48), oneLine, trimmed, nonEmpty], source: 'schema Person: lastName maxLength 48' },
      { on: /^POST \/api\/v2\/address-book/, field: 'firstName', checks: [], requiredWhen: hasFirst, source: 'the first name is kept' },
      { on: /^(POST|PUT) \/api\/v2\/address-book/, field: 'cellPhone.formatted', checks: [max(24), oneLine], source: 'schema Phone: formatted maxLength 24' },
      { on: /^(POST|PUT) \/api\/v2\/address-book/, field: 'cellPhone.e164', checks: [e164], source: 'schema Phone: e164' },
      { on: /^POST \/api\/v2\/address-book/, field: 'cellPhone.e164', checks: [], requiredWhen: hasPhone, source: 'a number that parses is sent as E.164' },
    ],
  },
  {
    provider: 'lightblue',
    origins: ['https://online.lightbluesoftware.com'],
    credentials: { apiKey: 'lb-key' },
    settings: {},
    respond: () => [200, '0', { 'content-type': 'text/html; charset=UTF-8' }],
    limits: [
      { on: /^POST \/api\.php$/, field: 'ContactEmail', checks: [theEmail], requiredWhen: always, source: 'https://online.lightbluesoftware.com/api.php: the Inbox matches contacts by email' },
      { on: /^POST \/api\.php$/, field: 'ContactNameFirst', checks: [max(255), oneLine, trimmed, nonEmpty], requiredWhen: hasFirst, source: 'api.php documents no lengths; single-line Text fields (README "Assumptions to verify": 255)' },
      { on: /^POST \/api\.php$/, field: 'ContactNameLast', checks: [max(255), oneLine, trimmed, nonEmpty], requiredWhen: hasLast, source: 'as ContactNameFirst' },
      { on: /^POST \/api\.php$/, field: 'ContactPhone', checks: [max(255), oneLine, trimmed], requiredWhen: (p) => (p.phone ?? '').trim() !== '', source: 'free text: the extension is kept (README)' },
      { on: /^POST \/api\.php$/, field: 'ID', checks: [nonEmpty], requiredWhen: always, source: 'Source + ID dedupe (api.php advanced parameters)' },
    ],
  },
  {
    provider: 'google-calendar',
    origins: ['https://www.googleapis.com'],
    credentials: { accessToken: 'ya29.token', refreshToken: '1//refresh' },
    settings: {},
    respond(req) {
      if (req.method === 'DELETE') return [204, ''];
      const id = (req.body as { id?: string } | undefined)?.id ?? req.path.split('/').at(-1);
      return [200, { id, status: 'confirmed', items: [] }, JSON_TYPE];
    },
    limits: [
      { on: /^(POST|PUT) \/calendar\/v3\/calendars\/primary\/events/, field: 'summary', checks: [max(1024), nonEmpty], requiredWhen: always, source: 'https://developers.google.com/workspace/calendar/api/v3/reference/events: no length stated (README "Assumptions to verify": 1,024)' },
      { on: /^(POST|PUT) \/calendar\/v3\/calendars\/primary\/events/, field: 'description', checks: [max(8192)], source: 'as summary: 8,192' },
      { on: /^(POST|PUT) \/calendar\/v3\/calendars\/primary\/events/, field: 'location', checks: [max(1024), oneLine], source: 'as summary: 1,024' },
      { on: /^(POST|PUT) \/calendar\/v3\/calendars\/primary\/events/, field: 'attendees[].email', checks: [theEmail], requiredWhen: always, source: 'events resource: attendees[].email' },
      { on: /^(POST|PUT) \/calendar\/v3\/calendars\/primary\/events/, field: 'attendees[].displayName', checks: [max(255), oneLine, trimmed], source: 'attendees[].displayName (README: 255)' },
      { on: /^POST \/calendar\/v3\/calendars\/primary\/events/, field: 'id', checks: [{ name: 'base32hex, 5 to 1024', test: (v) => (/^[a-v0-9]{5,1024}$/.test(str(v)) ? undefined : 'bad id') }], requiredWhen: always, source: 'events.insert: id characters a-v and 0-9, length 5 to 1024' },
    ],
  },
  {
    provider: 'outlook-calendar',
    origins: ['https://graph.microsoft.com'],
    credentials: { accessToken: 'eyJ.token', refreshToken: '0.refresh' },
    settings: {},
    respond: (req) => (req.method === 'POST' && req.path.endsWith('/cancel') ? [202, ''] : req.method === 'DELETE' ? [204, ''] : [req.method === 'POST' ? 201 : 200, { id: 'AAMkAGI2', value: [] }, JSON_TYPE]),
    limits: [
      { on: /^(POST \/v1\.0\/me\/events|PATCH \/v1\.0\/me\/events\/[^/]+)$/, field: 'subject', checks: [max(255), nonEmpty], requiredWhen: always, source: 'https://learn.microsoft.com/graph/api/resources/event: no length stated; Exchange keeps 255 (README)' },
      { on: /^(POST \/v1\.0\/me\/events|PATCH \/v1\.0\/me\/events\/[^/]+)$/, field: 'location.displayName', checks: [max(255), oneLine], source: 'as subject (README)' },
      { on: /^(POST \/v1\.0\/me\/events|PATCH \/v1\.0\/me\/events\/[^/]+)$/, field: 'attendees[].emailAddress.address', checks: [theEmail], requiredWhen: always, source: 'event.attendees[].emailAddress' },
      { on: /^(POST \/v1\.0\/me\/events|PATCH \/v1\.0\/me\/events\/[^/]+)$/, field: 'attendees[].emailAddress.name', checks: [max(255), oneLine, trimmed], source: 'as subject (README)' },
      { on: /^POST \/v1\.0\/me\/events$/, field: 'transactionId', checks: [{ name: 'a GUID', test: (v) => (/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(str(v)) ? undefined : 'not a GUID') }], requiredWhen: always, source: 'event.transactionId (a GUID in every example)' },
    ],
  },
  {
    provider: 'apple-calendar',
    origins: ['https://caldav.icloud.com', 'https://p52-caldav.icloud.com'],
    credentials: { appleId: 'planner@icloud.com', appSpecificPassword: 'abcd-efgh-ijkl-mnop' },
    settings: {},
    respond(req) {
      const xml = { 'content-type': 'text/xml; charset=utf-8' };
      if (req.method === 'PUT') return [201, ''];
      if (req.method === 'DELETE') return [204, ''];
      if (req.path === '/') return [207, multistatus(davResponse('/', '<current-user-principal><href>/123/principal/</href></current-user-principal>')), xml];
      if (req.path === '/123/principal/') return [207, multistatus(davResponse('/123/principal/', '<C:calendar-home-set><href>https://p52-caldav.icloud.com/123/calendars/</href></C:calendar-home-set>')), xml];
      if (req.path === '/123/calendars/') {
        return [207, multistatus(davResponse('/123/calendars/home/', '<displayname>Home</displayname><resourcetype><collection/><C:calendar/></resourcetype><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>')), xml];
      }
      return [207, multistatus(davResponse(req.path, '<supported-report-set/>')), xml];
    },
    limits: [
      { on: /^PUT /, field: 'lines[]', checks: [octets(75)], requiredWhen: always, source: 'RFC 5545 §3.1: content lines are folded at 75 octets' },
      { on: /^PUT /, field: 'props.SUMMARY', checks: [max(255), nonEmpty], requiredWhen: always, source: 'iCloud states no lengths (README "Assumptions to verify": 255)' },
      { on: /^PUT /, field: 'props.DESCRIPTION', checks: [max(8192)], source: 'as SUMMARY: 8,192' },
      { on: /^PUT /, field: 'props.LOCATION', checks: [max(255), oneLine], source: 'as SUMMARY: 255' },
      { on: /^PUT /, field: 'attendees[].address', checks: [theEmail], requiredWhen: always, source: 'RFC 5545 ATTENDEE cal-address (mailto:)' },
      { on: /^PUT /, field: 'attendees[].cn', checks: [max(255), oneLine, trimmed], source: 'ATTENDEE;CN (README: 255)' },
      { on: /^PUT /, field: 'props.UID', checks: [nonEmpty], requiredWhen: always, source: 'RFC 5545 §3.8.4.7: UID is required' },
    ],
  },
  {
    provider: 'stripe',
    origins: ['https://api.stripe.com'],
    credentials: { secretKey: 'sk_test_messy0123' },
    settings: {},
    respond: (req) =>
      req.method === 'GET' && req.path === '/v1/customers' ? [200, { object: 'list', url: '/v1/customers', has_more: false, data: [] }, JSON_TYPE] : [200, { id: 'cus_1', object: 'customer', metadata: {} }, JSON_TYPE],
    limits: [
      { on: /^POST \/v1\/customers$/, field: 'email', checks: [theEmail, max(512)], requiredWhen: always, source: 'https://docs.stripe.com/api/customers/create (email, 512) and /customers/list#list_customers-email: the filter is case-sensitive' },
      { on: /^GET \/v1\/customers$/, field: '?email', checks: [theEmail], source: 'the same form is searched as was written' },
      { on: /^POST \/v1\/customers/, field: 'name', checks: [max(256), oneLine, trimmed, nonEmpty], source: 'https://docs.stripe.com/api/customers/create: name maxLength 256' },
      { on: /^POST \/v1\/customers$/, field: 'name', checks: [], requiredWhen: hasName, source: 'the name is kept' },
      { on: /^POST \/v1\/customers/, field: 'phone', checks: [max(20), oneLine, e164IfItParses], source: 'https://docs.stripe.com/api/customers/create: phone maxLength 20; E.164 when it parses, the extension in metadata' },
      { on: /^POST \/v1\/customers$/, field: 'phone', checks: [], requiredWhen: hasPhone, source: 'a number that parses is kept' },
      { on: /^POST \/v1\/customers/, field: 'metadata.*', checks: [max(500)], source: 'https://docs.stripe.com/metadata: values up to 500 characters' },
      { on: /^POST \/v1\/customers/, field: 'header:idempotency-key', checks: [max(255)], requiredWhen: always, source: 'https://docs.stripe.com/api/idempotent_requests: keys up to 255 characters' },
    ],
  },
  {
    provider: 'square',
    origins: ['https://connect.squareupsandbox.com'],
    credentials: { accessToken: 'EAAAEmessymessymessymessy0123' },
    settings: { environment: 'sandbox' },
    respond: (req) => (req.path === '/v2/customers' && req.method === 'POST' ? [200, { customer: { id: 'SQCUST1' } }, JSON_TYPE] : [200, {}, JSON_TYPE]),
    limits: [
      { on: /^POST \/v2\/customers$/, field: 'email_address', checks: [theEmail, max(254)], requiredWhen: always, source: 'https://developer.squareup.com/reference/square/customers-api/create-customer: email_address maxLength 254' },
      { on: /^POST \/v2\/customers\/search$/, field: 'query.filter.email_address.exact', checks: [theEmail], requiredWhen: always, source: 'SearchCustomers: `exact` matches the stored address as it is' },
      { on: /^POST \/v2\/customers$/, field: 'given_name', checks: [max(300), oneLine, trimmed, nonEmpty], requiredWhen: hasFirst, source: 'CreateCustomer: given_name maxLength 300' },
      { on: /^POST \/v2\/customers$/, field: 'family_name', checks: [max(300), oneLine, trimmed, nonEmpty], requiredWhen: hasLast, source: 'CreateCustomer: family_name maxLength 300' },
      { on: /^POST \/v2\/customers$/, field: 'phone_number', checks: [e164], requiredWhen: hasPhone, source: 'CreateCustomer: phone_number 9 to 16 digits, optional + and country code; no extension field' },
      { on: /^POST \/v2\/customers$/, field: 'reference_id', checks: [max(255)], source: 'CreateCustomer: reference_id' },
      { on: /^POST \/v2\//, field: 'idempotency_key', checks: [max(45), nonEmpty], source: 'idempotency_key: at most 45 characters (the shortest Square states)' },
      { on: /^POST \/v2\/customers\/[^/]+\/custom-attributes\//, field: 'custom_attribute.value', checks: [max(1000)], requiredWhen: always, source: 'https://developer.squareup.com/docs/devtools/customattributes/overview, String type: 1,000 as connectors/payment/square/mapping.ts caps it (README)' },
    ],
  },
  {
    provider: 'paypal',
    origins: ['https://api-m.sandbox.paypal.com'],
    credentials: { clientId: 'client-id-0123', clientSecret: 'client-secret-0123' },
    settings: { environment: 'sandbox', plans: { premium: 'P-5ML4271244454362WXNWU5NQ' } },
    respond(req) {
      if (req.path === '/v1/oauth2/token') return [200, { access_token: 'A21AAtoken', token_type: 'Bearer', expires_in: 32400 }, JSON_TYPE];
      if (req.path === '/v1/billing/subscriptions') return [201, { id: 'I-1', status: 'APPROVAL_PENDING' }, JSON_TYPE];
      return [200, { plans: [] }, JSON_TYPE];
    },
    limits: [
      { on: /^POST \/v1\/billing\/subscriptions$/, field: 'subscriber.email_address', checks: [theEmail, max(254)], requiredWhen: always, source: 'https://developer.paypal.com/docs/api/subscriptions/v1/#subscriptions_create: subscriber.email_address maxLength 254' },
      { on: /^POST \/v1\/billing\/subscriptions$/, field: 'custom_id', checks: [printableAscii(127)], requiredWhen: always, source: 'subscriptions_create: custom_id 1 to 127 characters' },
      { on: /^POST \/v1\/billing\/subscriptions$/, field: 'header:paypal-request-id', checks: [printableAscii(108)], requiredWhen: always, source: 'PayPal-Request-Id (https://developer.paypal.com/api/rest/reference/idempotency/)' },
    ],
  },
  {
    provider: 'mailchimp',
    origins: ['https://us6.api.mailchimp.com'],
    credentials: { apiKey: '0123456789abcdef0123456789abcdef-us6' },
    settings: { listId: 'a1b2c3d4e5', sequences: { welcome: { journeyId: 1, stepId: 2 } } },
    respond: (req) => (req.method === 'POST' ? [204, ''] : [200, { id: req.path.split('/').at(-1) }, JSON_TYPE]),
    limits: [
      { on: /^PUT \/3\.0\/lists\/[^/]+\/members\//, field: 'email_address', checks: [theEmail], requiredWhen: always, source: 'https://mailchimp.com/developer/marketing/api/list-members/: 400 when the address hashes differently from the path' },
      { on: /^(PUT|POST) \/3\.0\/lists\/[^/]+\/members\//, field: '@path', checks: [{ name: 'the member hash', test: (v, c) => md5OfEmail.test(str(v).replace(/\/tags$/, ''), c) }], requiredWhen: always, source: 'subscriber_hash: MD5 of the lower-cased address' },
      { on: /^PUT \/3\.0\/lists\/[^/]+\/members\//, field: 'merge_fields.FNAME', checks: [max(255), oneLine, trimmed, nonEmpty], requiredWhen: hasFirst, source: 'https://mailchimp.com/help/manage-audience-signup-form-fields/: text merge fields hold 255 characters' },
      { on: /^PUT \/3\.0\/lists\/[^/]+\/members\//, field: 'merge_fields.LNAME', checks: [max(255), oneLine, trimmed, nonEmpty], requiredWhen: hasLast, source: 'as FNAME' },
      { on: /^POST \/3\.0\/customer-journeys\//, field: 'email_address', checks: [theEmail], requiredWhen: always, source: 'the journey finds the contact by address' },
    ],
  },
  {
    provider: 'kit',
    origins: ['https://api.kit.com'],
    credentials: { apiKey: 'kit_0123456789abcdef' },
    settings: { sequences: { welcome: 101 }, fieldKeys: { resumeUrl: 'resume_url' } },
    respond(req) {
      if (req.method === 'DELETE') return [204, ''];
      if (req.path === '/v4/tags') return [200, { tag: { id: 7, name: 'x' } }, JSON_TYPE];
      return [201, { subscriber: { id: 3 }, account: {} }, JSON_TYPE];
    },
    limits: [
      { on: /^(POST|DELETE) \/v4\//, field: 'email_address', checks: [theEmail, max(254)], source: 'https://developers.kit.com/api-reference: subscribers are matched by email address; 254 is RFC 5321’s limit for an address' },
      { on: /^POST \/v4\/subscribers$/, field: 'email_address', checks: [], requiredWhen: always, source: 'create a subscriber: email_address required' },
      { on: /^POST \/v4\/subscribers$/, field: 'first_name', checks: [max(255), oneLine, trimmed, nonEmpty], requiredWhen: hasFirst, source: 'Kit publishes no length (README "Assumptions to verify": 255)' },
      { on: /^POST \/v4\/subscribers$/, field: 'fields.*', checks: [max(255)], source: 'custom field values (README: 255)' },
      { on: /^POST \/v4\/tags$/, field: 'name', checks: [max(255), oneLine, nonEmpty], source: 'tag names (README)' },
    ],
  },
  {
    provider: 'activecampaign',
    origins: ['https://tourhub.api-us1.com'],
    credentials: { apiToken: 'ac-token-0123456789abcdef0123' },
    settings: { apiUrl: 'https://tourhub.api-us1.com', listId: '4', automations: { welcome: '12' }, fieldIds: { resumeUrl: '9' } },
    respond(req) {
      const at = `${req.method} ${req.path}`;
      if (at === 'GET /api/3/contacts') return [200, { contacts: [{ id: '55', email: req.query.get('email') }] }, JSON_TYPE];
      if (at === 'GET /api/3/tags') return [200, { tags: [{ id: '3', tag: req.query.get('search') }] }, JSON_TYPE];
      if (at === 'GET /api/3/contacts/55/contactTags') return [200, { contactTags: [{ id: '90', tag: '3' }] }, JSON_TYPE];
      if (at === 'GET /api/3/contacts/55/contactAutomations') return [200, { contactAutomations: [] }, JSON_TYPE];
      return [req.method === 'POST' ? 201 : 200, { contact: { id: '55' }, contactAutomation: { id: '700' }, tag: { id: '3' }, user: {} }, JSON_TYPE];
    },
    limits: [
      { on: /^POST \/api\/3\/contact\/sync$/, field: 'contact.email', checks: [theEmail], requiredWhen: always, source: 'https://developers.activecampaign.com/reference/sync-a-contacts-data: contact/sync upserts by email' },
      { on: /^GET \/api\/3\/contacts$/, field: '?email', checks: [theEmail], requiredWhen: always, source: 'list contacts, email filter' },
      { on: /^POST \/api\/3\/contact\/sync$/, field: 'contact.firstName', checks: [max(255), oneLine, trimmed, nonEmpty], requiredWhen: hasFirst, source: 'ActiveCampaign publishes no lengths (README "Assumptions to verify": 255)' },
      { on: /^POST \/api\/3\/contact\/sync$/, field: 'contact.lastName', checks: [max(255), oneLine, trimmed, nonEmpty], requiredWhen: hasLast, source: 'as firstName' },
      { on: /^POST \/api\/3\/contact\/sync$/, field: 'contact.phone', checks: [max(255), oneLine, trimmed], requiredWhen: (p) => (p.phone ?? '').trim() !== '', source: 'free text: the extension is kept (README)' },
      { on: /^POST \/api\/3\/contact\/sync$/, field: 'contact.fieldValues[].value', checks: [max(255)], source: 'custom field values (README: 255)' },
    ],
  },
  {
    provider: 'twilio',
    origins: ['https://api.twilio.com'],
    credentials: { accountSid: `AC${'0'.repeat(32)}`, authToken: 'auth-token' },
    settings: { from: '+15005550006' },
    respond: (req) => [req.method === 'POST' ? 201 : 200, { sid: 'SM0123', status: 'queued', messages: [] }, JSON_TYPE],
    limits: [
      { on: /^POST \/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/, field: 'To', checks: [e164], requiredWhen: always, source: 'https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource: To in E.164' },
      { on: /^POST \/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/, field: 'Body', checks: [max(1600), nonEmpty], requiredWhen: always, source: 'Message resource: Body up to 1,600 characters' },
    ],
  },
  {
    provider: 'vonage',
    origins: ['https://rest.nexmo.com', 'https://api.nexmo.com'],
    credentials: { apiKey: 'abcd1234', apiSecret: 'secret-value-1' },
    settings: { from: '15005550006' },
    respond: (req) =>
      req.path === '/sms/json' ? [200, { 'message-count': '1', messages: [{ status: '0', 'message-id': '0A1' }] }, JSON_TYPE] : [200, { records: [{ message_id: '0A1', status: 'delivered' }], value: 1 }, JSON_TYPE],
    limits: [
      { on: /^POST \/sms\/json$/, field: 'to', checks: [e164Digits], requiredWhen: always, source: 'https://developer.vonage.com/en/api/sms: to in E.164 without a leading +' },
      { on: /^POST \/sms\/json$/, field: 'text', checks: [max(1000), nonEmpty], requiredWhen: always, source: 'SMS text, concatenated by Vonage; 1,000 as the Messages API states for SMS' },
      { on: /^POST \/sms\/json$/, field: 'client-ref', checks: [max(40)], requiredWhen: always, source: 'client-ref: up to 40 characters' },
      { on: /^POST \/sms\/json$/, field: 'type', checks: [{ name: 'unicode', test: (v) => (v === 'unicode' ? undefined : `type=${str(v)}`) }], source: 'type=unicode for text outside GSM-7' },
    ],
  },
  {
    provider: 'bird',
    origins: ['https://api.bird.com'],
    credentials: { accessKey: 'bird-access-key-0123456789' },
    settings: { workspaceId: '8c5b5c5e-3a4b-4f6e-9a1b-2c3d4e5f6a7b', channelId: '1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a' },
    respond: (req) => [req.method === 'POST' ? 202 : 200, { id: 'msg-1', status: 'accepted', results: [] }, JSON_TYPE],
    limits: [
      { on: /^POST \/workspaces\/[^/]+\/channels\/[^/]+\/messages$/, field: 'receiver.contacts[].identifierValue', checks: [e164], requiredWhen: always, source: 'https://docs.bird.com/api/channels-api/api-reference/messaging: phonenumber identifiers in E.164' },
      { on: /^POST \/workspaces\/[^/]+\/channels\/[^/]+\/messages$/, field: 'body.text.text', checks: [max(1600), nonEmpty], requiredWhen: always, source: 'text messages; 1,600 (ten parts) as our cap (README)' },
    ],
  },
];

// ---------------------------------------------------------------------------------------------------
// Every method of each category's contract, with what the planner would put in it for this couple.

const AT = '2026-11-23T12:00:00.000Z';

type Run = (connector: never, couple: Person, key: string) => Promise<unknown>;

/** Whether the vendor can take this couple at all through this method (a text needs a number to dial). */
type Method = { name: string; run: Run; refuses?: (couple: Person) => boolean };

function who(p: Person): string {
  return fullName(p) ?? p.email;
}

const METHODS: { [C in keyof CategoryConnectors]: Method[] } = {
  crm: [
    { name: 'upsertContact', run: (c: CrmConnector, p, key) => c.upsertContact(p, { idempotencyKey: key }) },
    {
      name: 'logActivity',
      run: (c: CrmConnector, p, key) =>
        c.logActivity({ person: p, type: 'tour_completed', title: 'Completed "Welcome to your wedding dashboard"', description: `${who(p)} completed the onboarding tour.`, occurredAt: AT, metadata: { tour_id: 'tour-1', source: 'tourhub' } }, { idempotencyKey: key }),
    },
    { name: 'createTask', run: (c: CrmConnector, p, key) => c.createTask({ person: p, title: `Follow up with ${who(p)}`, description: `${who(p)} completed the tour: schedule the consultation call.`, dueDate: '2026-11-30', priority: 'normal' }, { idempotencyKey: key }) },
    { name: 'setCustomFields', run: (c: CrmConnector, p, key) => c.setCustomFields({ person: p, fields: { 'Tour rating': 5, 'Tour name': 'Welcome', 'Tour completed at': AT } }, { idempotencyKey: key }) },
    { name: 'addNote', run: (c: CrmConnector, p, key) => c.addNote({ person: p, body: `Tour feedback\nRating: 5/5\n${who(p)}: we loved it` }, { idempotencyKey: key }) },
    { name: 'ping', run: (c: CrmConnector) => c.ping() },
  ],
  calendar: [
    {
      name: 'createEvent, updateEvent, cancelEvent',
      async run(c: CalendarConnector, p, key) {
        const event = {
          summary: `Follow-up consultation with ${who(p)}`,
          description: `Follow-up consultation after ${who(p)} completed "Welcome".`,
          start: '2026-11-26T14:00:00',
          end: '2026-11-26T15:00:00',
          timeZone: 'America/New_York',
          attendees: [{ email: p.email, name: who(p) }],
          location: `${who(p)}'s venue`,
        };
        const { eventId } = await c.createEvent(event, { idempotencyKey: key });
        await c.updateEvent(eventId, { ...event, summary: `Moved: ${event.summary}` }, { idempotencyKey: `${key}:update` });
        await c.cancelEvent(eventId, { idempotencyKey: `${key}:cancel` });
      },
    },
    { name: 'ping', run: (c: CalendarConnector) => c.ping() },
  ],
  payment: [
    {
      name: 'upsertCustomer, recordSubscriptionInterest',
      async run(c: PaymentConnector, p, key) {
        const { customerId } = await c.upsertCustomer({ person: p, metadata: { tour_id: 'tour-1', progress_id: 'progress-1', event_id: 'event-1', source: 'tourhub' } }, { idempotencyKey: `${key}:customer` });
        await c.recordSubscriptionInterest({ customerId, plan: 'premium', source: 'tour_completed', occurredAt: AT }, { idempotencyKey: key });
      },
    },
    { name: 'ping', run: (c: PaymentConnector) => c.ping() },
  ],
  email: [
    { name: 'upsertSubscriber', run: (c: EmailConnector, p, key) => c.upsertSubscriber({ person: p, mergeFields: { resumeUrl: 'https://app.tourhub.test/resume?progress=1' } }, { idempotencyKey: key }) },
    { name: 'addTags', run: (c: EmailConnector, p, key) => c.addTags({ email: p.email, tags: ['tour-completed'] }, { idempotencyKey: key }) },
    { name: 'removeTags', run: (c: EmailConnector, p, key) => c.removeTags({ email: p.email, tags: ['tour-completed'] }, { idempotencyKey: key }) },
    { name: 'triggerSequence', run: (c: EmailConnector, p, key) => c.triggerSequence({ email: p.email, sequence: 'welcome' }, { idempotencyKey: key }) },
    { name: 'ping', run: (c: EmailConnector) => c.ping() },
  ],
  sms: [
    {
      name: 'sendMessage, getDeliveryStatus',
      async run(c: SmsConnector, p, key) {
        const { messageId } = await c.sendMessage({ to: p.phone ?? '', body: `Welcome aboard, ${p.firstName ?? 'and congratulations'}! Your wedding dashboard is ready.` }, { idempotencyKey: key });
        await c.getDeliveryStatus(messageId);
      },
      refuses: (p) => !hasPhone(p),
    },
    { name: 'ping', run: (c: SmsConnector) => c.ping() },
  ],
};

// ---------------------------------------------------------------------------------------------------

function intercept(vendor: Vendor, log: Recorded[]): void {
  for (const origin of vendor.origins) {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND']) {
      nock(origin)
        .persist()
        .intercept(() => true, method)
        .reply(function (uri, body) {
          const headers = Object.fromEntries(Object.entries(this.req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v)]));
          const req = parseRecorded(method, uri, headers, body);
          log.push(req);
          const [status, replyBody, replyHeaders] = vendor.respond(req);
          return [status, replyBody, replyHeaders ?? {}];
        });
    }
  }
}

const applies = (limit: Limit, req: Recorded) => (typeof limit.on === 'function' ? limit.on(req) : limit.on.test(`${req.method} ${req.path}`));

/** What is wrong with one recorded request for this couple: every limit's checks, and well-formed text throughout. */
function violations(vendor: Vendor, req: Recorded, couple: Person): string[] {
  const at = `${req.method} ${req.path}`;
  const found: string[] = [];
  for (const s of strings(req.body)) {
    try {
      encodeURIComponent(s);
    } catch {
      found.push(`${at}: a string with half a surrogate pair`);
    }
  }
  for (const limit of vendor.limits) {
    if (!applies(limit, req)) continue;
    const values = valuesAt(req, limit.field);
    if (values.length === 0 && limit.requiredWhen?.(couple)) found.push(`${at}: ${limit.field} missing (${limit.source})`);
    for (const value of values) {
      for (const check of limit.checks) {
        const problem = check.test(value, couple);
        if (problem) found.push(`${at}: ${limit.field} not ${check.name}: ${problem} (${limit.source})`);
      }
    }
  }
  return found;
}

describe('messy couples through every connector, against each vendor’s limits', () => {
  it('has a limits table for every provider in the registry', () => {
    expect(VENDORS.map((v) => v.provider).sort()).toEqual([...registry.keys()].sort());
  });

  it.each(VENDORS.map((v) => [v.provider, v] as const))('%s', async (_provider, vendor) => {
    const entry = registry.get(vendor.provider)!;
    const problems: string[] = [];
    const seenFields = new Set<string>();
    let requests = 0;
    for (const [index, { label, person }] of MESSY_COUPLES.entries()) {
      for (const method of METHODS[entry.category]) {
        const log: Recorded[] = [];
        nock.cleanAll();
        intercept(vendor, log);
        const connector = entry.create(
          context(entry, entry.credentialsSchema.parse(vendor.credentials), entry.settingsSchema.parse(vendor.settings), {
            guard: memoryGuard(),
            ...(entry.auth === 'oauth2' ? { oauth: staticOAuth(String(vendor.credentials.accessToken)) } : {}),
          }),
        );
        const where = `${label} / ${method.name}`;
        const outcome = await method.run(connector as never, person, `messy-${index}-${method.name}`).then(
          () => undefined,
          (err: unknown) => err,
        );
        if (method.refuses?.(person)) {
          // The vendor cannot take this at all: a classified, non-retryable refusal before anything is sent.
          if (!(outcome instanceof ConnectorError) || outcome.retryable || outcome.code !== 'bad_request') problems.push(`${where}: expected a non-retryable bad_request, got ${String(outcome)}`);
          if (log.length > 0) problems.push(`${where}: sent ${log.length} requests for input it refused`);
          continue;
        }
        if (outcome !== undefined) problems.push(`${where}: threw ${String(outcome)}`);
        if (log.length === 0) problems.push(`${where}: made no request`);
        for (const req of log) {
          requests++;
          for (const limit of vendor.limits) if (applies(limit, req) && valuesAt(req, limit.field).length > 0) seenFields.add(limit.field);
          problems.push(...violations(vendor, req, person).map((v) => `${where}: ${v}`));
        }
      }
    }
    expect(problems).toEqual([]);
    // Every field in the table was met at least once: a limit that never matches a request checks nothing.
    const unmet = vendor.limits.filter((l) => l.checks.length > 0 && !seenFields.has(l.field)).map((l) => `${l.on} ${l.field}`);
    expect(unmet).toEqual([]);
    expect(requests).toBeGreaterThan(MESSY_COUPLES.length);
  });
});

