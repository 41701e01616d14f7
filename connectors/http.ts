import type http from 'node:http';
import { classify, ConnectorError, outboundForbidden, outboundRefusal } from './errors';
import { matchesHost, type HostPattern, type OutboundGuard } from './outbound';
import { isIpLiteral } from './addresses';

/**
 * The one guarded outbound HTTP layer. Every request a connector makes (and every SDK that takes a
 * fetch or an agent) goes through a `VendorHttp` bound to one provider:
 * - before anything is built, the URL must be https on a host the provider entry names (or the
 *   deployment's base URL for that provider), so credentials never go to any other host;
 * - the socket connects only to an address the deployment allows, checked after DNS on the address
 *   actually dialled (outbound.ts);
 * - redirects are never followed (a 3xx is `redirect_refused`), bodies are read up to a limit
 *   (`response_too_large`), every call has a timeout;
 * - an error carries a classified code and at most a short message from the vendor's JSON, never the body.
 */

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path relative to the client's base URL, or an absolute URL. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Sent as JSON unless `form` is set. */
  json?: unknown;
  /** Sent as application/x-www-form-urlencoded (Light Blue's api.php, OAuth token endpoints). */
  form?: Record<string, string>;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  body: T;
}

export interface HttpClient {
  request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>>;
}

export interface HttpClientOptions {
  baseUrl: string;
  /** Headers added to every request (auth). Called per request so a refreshed token is picked up. */
  headers?: () => Promise<Record<string, string>> | Record<string, string>;
  /**
   * Called once when a request gets 401. Return true if credentials were refreshed: the request is
   * then retried once, and a second 401 is final.
   */
  onUnauthorized?: () => Promise<boolean>;
}

/** One provider's outbound calls: what a connector receives as `ctx.http`. */
export interface VendorHttp {
  readonly provider: string;
  /** Every call has one: a provider that hangs must not hold a worker slot forever. */
  readonly timeoutMs: number;
  /** The deployment's base URL for this provider (CONNECTOR_BASE_URLS), or undefined: the vendor's own. */
  readonly baseUrl: string | undefined;
  /** A JSON client on `baseUrl`. */
  client(opts: HttpClientOptions): HttpClient;
  /** For SDKs that take a fetch (googleapis): the same checks, no redirects, a capped body. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** For SDKs on node:http (Stripe): an agent whose sockets reach only allowed addresses. */
  agent(protocol: 'http:' | 'https:'): http.Agent;
  /** Rejects with `outbound_forbidden` if this provider may not call `url`; nothing is sent either way. */
  check(url: URL): Promise<void>;
}

export interface VendorHttpOptions {
  provider: string;
  /** The provider entry's hosts: the only ones its credentials are sent to. */
  hosts: readonly HostPattern[];
  guard: OutboundGuard;
  timeoutMs: number;
  /** Overrides the deployment's base URL for this provider (an OAuth token endpoint under test). */
  baseUrl?: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

interface Raw {
  status: number;
  statusText: string;
  headers: Headers;
  /** Undefined when an error answer was too large to keep: only its status matters then. */
  bytes: Buffer | undefined;
}

export function vendorHttp(opts: VendorHttpOptions): VendorHttp {
  const { provider, guard, timeoutMs } = opts;
  const baseUrl = opts.baseUrl ?? guard.baseUrlFor(provider);
  const deploymentOrigin = baseUrl !== undefined ? new URL(baseUrl).origin : undefined;

  async function check(url: URL): Promise<void> {
    // The deployment's own base URL is trusted for its host and scheme (a loopback fake speaks http);
    // its address still has to be one the deployment allows.
    if (url.origin !== deploymentOrigin) {
      if (url.protocol !== 'https:') throw outboundForbidden(provider, outboundRefusal('https_required', url.host));
      if (url.username || url.password) throw outboundForbidden(provider, outboundRefusal('invalid_url', url.host));
      if (!matchesHost(url.host, opts.hosts)) throw outboundForbidden(provider, outboundRefusal('host_not_allowed', url.host));
    }
    if (isIpLiteral(url.hostname)) {
      const refusal = await guard.checkAddress(url.hostname, url.hostname);
      if (refusal) throw outboundForbidden(provider, refusal);
    }
  }

  async function send(url: URL, init: RequestInit): Promise<Raw> {
    await check(url);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal, redirect: 'manual', dispatcher: guard.dispatcher } as RequestInit);
    } catch (err) {
      throw classify(provider, { kind: 'error', error: err });
    }
    if (REDIRECTS.has(res.status)) {
      await res.body?.cancel().catch(() => undefined);
      const location = res.headers.get('location');
      let to: string | undefined;
      try {
        to = location ? new URL(location, url).host : undefined;
      } catch {
        to = undefined;
      }
      throw new ConnectorError({
        code: 'redirect_refused',
        retryable: false,
        provider,
        status: res.status,
        message: `${provider} answered ${res.status} (a redirect${to ? ` to ${to}` : ''}); redirects are not followed`,
        details: { rule: 'redirect', status: res.status, ...(to ? { location_host: to } : {}) },
      });
    }
    let bytes: Buffer | undefined;
    try {
      bytes = await readCapped(res, guard.maxResponseBytes);
    } catch (err) {
      if (res.ok) throw classify(provider, { kind: 'error', error: err });
      bytes = Buffer.alloc(0);
    }
    if (bytes === undefined && res.ok) {
      throw new ConnectorError({
        code: 'response_too_large',
        retryable: false,
        provider,
        status: res.status,
        message: `${provider} answered with more than ${guard.maxResponseBytes} bytes; the answer was not read`,
        details: { limit_bytes: guard.maxResponseBytes },
      });
    }
    return { status: res.status, statusText: res.statusText, headers: res.headers, bytes };
  }

  const self: VendorHttp = {
    provider,
    timeoutMs,
    baseUrl,
    check,
    client: (o) => createHttpClient(self, send, o),
    agent: (protocol) => guard.nodeAgent(protocol),
    async fetch(input, init = {}) {
      const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
      const raw = await send(url, init);
      const empty = raw.status === 204 || raw.status === 304 || !raw.bytes || raw.bytes.length === 0;
      return new Response(empty ? null : raw.bytes, { status: raw.status, statusText: raw.statusText, headers: raw.headers });
    },
  };
  return self;
}

/**
 * The body, stopped at `limit` bytes: undefined past it (the rest is never read). A declared length
 * over the limit is refused before reading.
 */
async function readCapped(res: Response, limit: number): Promise<Buffer | undefined> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** A small JSON client over `send`: every failure a ConnectorError. */
function createHttpClient(vendor: VendorHttp, send: (url: URL, init: RequestInit) => Promise<Raw>, opts: HttpClientOptions): HttpClient {
  const { provider } = vendor;
  const base = opts.baseUrl.endsWith('/') ? opts.baseUrl : `${opts.baseUrl}/`;

  async function once<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    const url = new URL(/^https?:\/\//.test(req.path) ? req.path : req.path.replace(/^\//, ''), base);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', ...(await opts.headers?.()), ...req.headers };
    let body: string | undefined;
    if (req.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(req.form).toString();
    } else if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.json);
    }
    const res = await send(url, { method: req.method, headers, ...(body !== undefined ? { body } : {}) });
    const text = res.bytes?.toString('utf8') ?? '';
    const responseHeaders = Object.fromEntries(res.headers.entries());
    const ok = res.status >= 200 && res.status < 300;
    let parsed: unknown = text;
    let json = false;
    if (text && (res.headers.get('content-type') ?? '').includes('json')) {
      try {
        parsed = JSON.parse(text);
        json = true;
      } catch {
        if (ok) {
          throw new ConnectorError({ code: 'unexpected_response', retryable: false, provider, status: res.status, message: `${provider} sent invalid JSON` });
        }
      }
    }
    if (!ok) {
      const message = json ? providerMessage(parsed) : undefined;
      throw classify(provider, { kind: 'http', status: res.status, headers: responseHeaders, ...(message ? { message } : {}) });
    }
    return { status: res.status, headers: responseHeaders, body: parsed as T };
  }

  return {
    async request<T>(req: HttpRequest) {
      try {
        return await once<T>(req);
      } catch (err) {
        if (err instanceof ConnectorError && err.status === 401 && opts.onUnauthorized && (await opts.onUnauthorized())) {
          return once<T>(req);
        }
        throw err;
      }
    },
  };
}

/**
 * A short message from a JSON error body, from the fields vendors put it in. Text and HTML bodies give
 * none: whatever answered may not be the vendor, and its page is not ours to show an admin.
 */
export function providerMessage(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  // Kit answers {"errors": ["..."]}, Square and ActiveCampaign {"errors": [{"detail"|"title": "..."}]}.
  const first = Array.isArray(b.errors) ? (b.errors[0] as unknown) : undefined;
  const listed = typeof first === 'string' ? first : first && typeof first === 'object' ? ((first as Record<string, unknown>).detail ?? (first as Record<string, unknown>).title) : undefined;
  const candidates = [b.detail, b.title, b.message, (b.error as Record<string, unknown> | undefined)?.message, b.error_description, b.error, listed];
  const found = candidates.find((c) => typeof c === 'string' && c.trim() !== '');
  if (typeof found !== 'string') return undefined;
  // eslint-disable-next-line no-control-regex
  const clean = found.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return clean.length > 200 ? `${clean.slice(0, 199)}…` : clean;
}
