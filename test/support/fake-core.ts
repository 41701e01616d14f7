/**
 * The server core every loopback fake is built on (test/support/fake-providers.ts and test/fakes/<vendor>.ts):
 * a node:http server on 127.0.0.1 that matches a vendor's routes, checks its credentials, records every
 * request under the identity the vendor dedupes on (or would duplicate on), and can be made to fail or
 * slow down. See fake-providers.ts for what each fake keys its writes by.
 */
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The registry's provider ids with a loopback fake, each in test/fakes/<vendor>.ts. */
export const FAKE_PROVIDER_IDS = [
  'honeybook',
  'tave',
  'google-calendar',
  'outlook-calendar',
  'mailchimp',
  'stripe',
  'twilio',
  'pocketsuite',
  'apple-calendar',
  'square',
  'paypal',
  'kit',
  'activecampaign',
  'vonage',
  'bird',
] as const;
export type FakeProviderId = (typeof FAKE_PROVIDER_IDS)[number];

/**
 * What a request did at the provider:
 * - `applied`: a write whose effect happened now (a new note, event, message, customer, trigger);
 * - `reapplied`: an idempotent write again (an upsert, a PUT of the same fields): no new thing;
 * - `deduplicated`: the provider recognised the identity and did nothing (Stripe replay, Google 409);
 * - `rejected`: refused on its merits (validation, a bad signature, Stripe key reuse with other params);
 * - `fault`: an injected failure (down, failNext); `unauthorized`, `not_found`; `read`: no write.
 */
export type CallOutcome = 'applied' | 'reapplied' | 'deduplicated' | 'rejected' | 'fault' | 'unauthorized' | 'not_found' | 'read';

export interface RecordedCall {
  seq: number;
  provider: FakeProviderId;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** JSON or form body as parsed (form `a[b]=c` nests, as Stripe sends metadata). */
  body: unknown;
  kind: 'write' | 'read';
  /** The provider-visible identity of a write (see the table above); undefined for reads. */
  key: string | undefined;
  outcome: CallOutcome;
  status: number;
  /** Epoch ms. */
  receivedAt: number;
  respondedAt: number | undefined;
  /** The client closed the connection before the answer was written. */
  aborted: boolean;
}

/** How an integration is created for this fake: `POST /api/integrations` body parts, or (oauth2) a direct insert. */
export interface FakeIntegration {
  provider: FakeProviderId;
  category: 'crm' | 'calendar' | 'payment' | 'email' | 'sms';
  /** oauth2 integrations cannot be POSTed (their tokens come from a consent screen): see connectFakeIntegrations. */
  auth: 'api-key' | 'oauth2' | 'webhook-secret';
  credentials: Record<string, unknown>;
  settings: Record<string, unknown>;
  /** Route overrides the integrations API does not take yet (stored in settings.routes), e.g. the SMS welcome. */
  routes?: Record<string, unknown>;
}

export interface FakeProvider {
  readonly id: FakeProviderId;
  /** The base URL (after start()). */
  readonly url: string;
  /** Credentials and settings of a real integration of this provider. */
  readonly integration: FakeIntegration;
  /** What the vendor holds now, as the fake's module types it (e.g. `PocketSuiteFakeState`); undefined for most. */
  readonly state: unknown;
  /** What CONNECTOR_BASE_URLS names for this provider so its calls reach this fake (see `deploymentEnv`). */
  readonly deploymentBaseUrl: string;
  start(): Promise<void>;
  close(): Promise<void>;
  /** Every request so far, in arrival order (copies). */
  calls(): RecordedCall[];
  /** Write requests that reached the provider (not faulted), per identity. */
  countsByKey(): Map<string, number>;
  /** Identities whose effect happened, and how often (an `applied` outcome each). */
  effects(): Map<string, number>;
  /** Identities whose effect happened more than once, with their calls: what someone would see twice. */
  duplicates(): { key: string; calls: RecordedCall[] }[];
  /** Requests received and not yet answered (and whose client is still there). */
  inFlight(): RecordedCall[];
  /** Resolves once `predicate(this)` holds (checked on every request and every 50 ms); rejects after timeoutMs. */
  waitFor(predicate: (fake: FakeProvider) => boolean, timeoutMs: number, what?: string): Promise<void>;
  /** 503 to every request until up(), or for `ms`. */
  down(ms?: number): void;
  up(): void;
  /** The next `n` requests get `status` (no effect), with Retry-After when given. */
  failNext(n: number, status?: number, opts?: { retryAfterSeconds?: number }): void;
  /** Every answer waits this long (after the effect). */
  setLatency(ms: number): void;
  /** Forgets recorded calls (not the provider's state: contacts, events, keys stay, as they would). */
  clearCalls(): void;
  /** One line: requests by outcome, in flight, duplicates. */
  summary(): string;
  /** The provider's own records of one kind (fake-providers.ts's header), by id: edit them as a planner would. */
  store(name: string): Map<string, Record<string, unknown>>;
  /** Records that a stored record changed now (its modified time, its place in the change feed). */
  touch(name: string, id: string): void;
}

export interface FakeOptions {
  latencyMs?: number;
  /** Mailchimp only: a Customer Journey that lets a contact in once (README's advice), default true. */
  journeyAdmitsOnce?: boolean;
  /** Tave only: the contact custom fields the studio has defined (name and token). */
  taveCustomFields?: { name: string; token: string }[];
}

// ---------------------------------------------------------------------------------------------------
// The server core, shared by every fake.

export interface FakeRequest {
  method: string;
  path: string;
  /** The route pattern's groups, URI-decoded. */
  params: string[];
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: unknown;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  outcome: CallOutcome;
}

export interface Route {
  method: string;
  path: RegExp;
  kind: 'write' | 'read';
  key?: (req: FakeRequest) => string | undefined;
  handle: (req: FakeRequest, key: string | undefined) => Reply;
  /** This route's own credential check, for vendors whose APIs authenticate differently (Vonage). */
  authorize?: (req: FakeRequest) => Reply | undefined;
}

export interface ProviderSpec {
  id: FakeProviderId;
  routes: Route[];
  /** A 401 reply when the request's credentials are wrong. */
  authorize?: (req: FakeRequest) => Reply | undefined;
  /** The vendor's error body for an injected failure. */
  errorBody: (status: number) => unknown;
  integration: () => FakeIntegration;
  /** The fake's base URL as the deployment names it in CONNECTOR_BASE_URLS (the vendor's path prefix included). */
  baseUrl: (url: string) => string;
  /** What the vendor holds now (clients, events, messages), for a test to look at; its shape is the fake's. */
  state?: unknown;
  /** The provider's own records, by kind (contacts, members, customers, events), for two-way sync's reads. */
  stores?: Record<string, Map<string, Record<string, unknown>>>;
  /** Marks a stored record changed (the vendor's modified time, its change feed). */
  touch?: (name: string, id: string) => void;
  /** Learns the fake's own address (for absolute links in its answers: Graph's delta links). */
  started?: (url: string) => void;
}

export const json = (status: number, body: unknown, outcome: CallOutcome, headers: Record<string, string> = {}): Reply => ({ status, body, outcome, headers });

/** `a=1&m[k]=v` -> { a: '1', m: { k: 'v' } } (one level of brackets, all Stripe sends here). */
export function parseForm(raw: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    const m = /^([^[]+)\[([^\]]*)\]$/.exec(k);
    if (m) {
      const inner = (out[m[1]!] ??= {}) as Record<string, unknown>;
      inner[m[2]!] = v;
    } else {
      out[k] = v;
    }
  }
  return out;
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (!raw) return undefined;
  if (contentType?.includes('json')) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  if (contentType?.includes('x-www-form-urlencoded')) return parseForm(raw);
  return raw;
}

export function createFake(spec: ProviderSpec, opts: FakeOptions): FakeProvider {
  const log: RecordedCall[] = [];
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let seq = 0;
  let latencyMs = opts.latencyMs ?? 0;
  let downUntil = 0;
  const failures: { status: number; retryAfterSeconds?: number }[] = [];
  let server: http.Server | undefined;
  let baseUrl: string | undefined;
  let integration: FakeIntegration | undefined;

  const changed = () => events.emit('change');

  async function onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    let route: Route | undefined;
    let params: string[] = [];
    for (const r of spec.routes) {
      if (r.method !== method) continue;
      const m = r.path.exec(url.pathname);
      if (m) {
        route = r;
        params = m.slice(1).map((p) => decodeURIComponent(p));
        break;
      }
    }
    const request: FakeRequest = { method, path: url.pathname, params, query: url.searchParams, headers: req.headers, raw, body: parseBody(raw, req.headers['content-type']) };
    const call: RecordedCall = {
      seq: ++seq,
      provider: spec.id,
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)])),
      body: request.body,
      kind: route?.kind ?? 'read',
      key: undefined,
      outcome: 'read',
      status: 0,
      receivedAt,
      respondedAt: undefined,
      aborted: false,
    };
    log.push(call);
    res.on('close', () => {
      if (!res.writableFinished) {
        call.aborted = true;
        changed();
      }
    });

    let reply: Reply;
    try {
      call.key = route?.key?.(request);
    } catch {
      call.key = undefined;
    }
    const failure = receivedAt < downUntil ? { status: 503 } : failures.shift();
    if (failure) {
      reply = {
        status: failure.status,
        body: spec.errorBody(failure.status),
        outcome: 'fault',
        headers: failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {},
      };
    } else if (!route) {
      reply = json(404, spec.errorBody(404), 'not_found');
    } else {
      reply = (route.authorize ?? spec.authorize)?.(request) ?? route.handle(request, call.key);
    }
    call.outcome = reply.outcome;
    call.status = reply.status;
    changed();

    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    if (res.destroyed || call.aborted) return;
    const headers: Record<string, string> = { ...reply.headers };
    let payload: string | undefined;
    if (reply.body !== undefined && reply.status !== 204) {
      payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      headers['content-type'] ??= typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
    }
    res.writeHead(reply.status, headers);
    res.end(payload, () => {
      call.respondedAt = Date.now();
      changed();
    });
  }

  const fake: FakeProvider = {
    id: spec.id,
    get url() {
      if (!baseUrl) throw new Error(`fake ${spec.id} is not started`);
      return baseUrl;
    },
    get integration() {
      integration ??= spec.integration();
      return integration;
    },
    get deploymentBaseUrl() {
      return spec.baseUrl(fake.url);
    },
    state: spec.state,
    async start() {
      if (server) return;
      server = http.createServer((req, res) => {
        onRequest(req, res).catch((err: unknown) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        });
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(0, '127.0.0.1', () => resolve());
      });
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      spec.started?.(baseUrl);
    },
    async close() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    calls: () => log.map((c) => ({ ...c })),
    countsByKey() {
      const counts = new Map<string, number>();
      for (const c of log) if (c.kind === 'write' && c.key !== undefined && c.outcome !== 'fault') counts.set(c.key, (counts.get(c.key) ?? 0) + 1);
      return counts;
    },
    effects() {
      const counts = new Map<string, number>();
      for (const c of log) if (c.outcome === 'applied' && c.key !== undefined) counts.set(c.key, (counts.get(c.key) ?? 0) + 1);
      return counts;
    },
    duplicates() {
      return [...fake.effects()].filter(([, n]) => n > 1).map(([key]) => ({ key, calls: log.filter((c) => c.key === key) }));
    },
    inFlight: () => log.filter((c) => c.respondedAt === undefined && !c.aborted).map((c) => ({ ...c })),
    waitFor(predicate, timeoutMs, what = 'condition') {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          let ok = false;
          try {
            ok = predicate(fake);
          } catch (err) {
            done();
            reject(err instanceof Error ? err : new Error(String(err)));
            return;
          }
          if (ok) {
            done();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`fake ${spec.id}: no "${what}" within ${timeoutMs} ms (${fake.summary()})`));
        }, timeoutMs);
        const poll = setInterval(check, 50);
        const done = () => {
          clearTimeout(timer);
          clearInterval(poll);
          events.removeListener('change', check);
        };
        events.on('change', check);
        check();
      });
    },
    down(ms) {
      downUntil = ms === undefined ? Number.POSITIVE_INFINITY : Date.now() + ms;
    },
    up() {
      downUntil = 0;
    },
    failNext(n, status = 503, o = {}) {
      for (let i = 0; i < n; i++) failures.push({ status, ...(o.retryAfterSeconds !== undefined ? { retryAfterSeconds: o.retryAfterSeconds } : {}) });
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    clearCalls() {
      log.length = 0;
    },
    store(name) {
      const found = spec.stores?.[name];
      if (!found) throw new Error(`fake ${spec.id} keeps no ${name}`);
      return found;
    },
    touch(name, id) {
      if (!spec.touch) throw new Error(`fake ${spec.id} has no change feed`);
      spec.touch(name, id);
    },
    summary() {
      const byOutcome = new Map<string, number>();
      for (const c of log) byOutcome.set(c.outcome, (byOutcome.get(c.outcome) ?? 0) + 1);
      const outcomes = [...byOutcome].map(([o, n]) => `${o} ${n}`).join(', ') || 'no requests';
      return `${spec.id}: ${outcomes}; in flight ${fake.inFlight().length}; aborted ${log.filter((c) => c.aborted).length}; duplicates ${fake.duplicates().length}`;
    },
  };
  return fake;
}

// ---------------------------------------------------------------------------------------------------
// Small helpers for the vendors' shapes.

export const hex = (bytes: number) => crypto.randomBytes(bytes).toString('hex');
export const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
export const md5 = (s: string) => crypto.createHash('md5').update(s).digest('hex');
export const lower = (s: unknown) => String(s ?? '').trim().toLowerCase();
const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';
/** A lowercase ULID-looking id, as VSCO Workspace uses. */
export const ulid = () => Array.from(crypto.randomBytes(26), (b) => CROCKFORD[b % 32]).join('');
export const alnum = (n: number) => Array.from(crypto.randomBytes(n), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62]).join('');
/** Twilio's dates: RFC 2822 with a numeric zone. */
export const rfc2822 = (ms: number) => new Date(ms).toUTCString().replace('GMT', '+0000');
export const bearer = (req: FakeRequest) => /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
export const basic = (req: FakeRequest): [string, string] | undefined => {
  const m = /^Basic (.+)$/.exec(String(req.headers.authorization ?? ''));
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : [decoded.slice(0, i), decoded.slice(i + 1)];
};
export const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
