/**
 * Everything that leaves a connector is a ConnectorError, produced by `classify`: one pure function,
 * so whether a provider failure is retried never depends on which SDK or HTTP client saw it.
 */

export type ConnectorErrorCode =
  | 'timeout'
  | 'network'
  | 'rate_limited'
  | 'provider_unavailable'
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'unexpected_response'
  | 'misconfigured'
  /** The guarded HTTP layer refused the destination (scheme, host, or address after DNS): nothing was sent. */
  | 'outbound_forbidden'
  /** The provider answered with a redirect, which is never followed. */
  | 'redirect_refused'
  /** The answer was larger than OUTBOUND_MAX_RESPONSE_BYTES; reading stopped there. */
  | 'response_too_large'
  /** A sync cursor the provider no longer honours (Google's 410 on a sync token): start a full pass. */
  | 'cursor_expired';

export class ConnectorError extends Error {
  readonly code: ConnectorErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly provider: string;
  readonly status: number | undefined;
  /** Data an admin may see about the failure (the rule a destination broke); never a body or a secret. */
  readonly details: Readonly<Record<string, string | number>> | undefined;

  constructor(fields: {
    code: ConnectorErrorCode;
    retryable: boolean;
    provider: string;
    message: string;
    status?: number;
    retryAfterMs?: number;
    details?: Record<string, string | number>;
    cause?: unknown;
  }) {
    super(fields.message, fields.cause !== undefined ? { cause: fields.cause } : undefined);
    this.name = 'ConnectorError';
    this.code = fields.code;
    this.retryable = fields.retryable;
    this.provider = fields.provider;
    this.status = fields.status;
    this.retryAfterMs = fields.retryAfterMs;
    this.details = fields.details;
  }

  /** A plain object for logs and activity failures: no request bodies, no credentials. */
  toJSON() {
    return {
      code: this.code,
      retryable: this.retryable,
      provider: this.provider,
      status: this.status,
      retryAfterMs: this.retryAfterMs,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** Why the guarded HTTP layer refused a destination; `details.rule` of `outbound_address_forbidden`. */
export type OutboundRule =
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'metadata'
  | 'cgnat'
  | 'multicast'
  | 'unspecified'
  | 'reserved'
  | 'own_service'
  | 'https_required'
  | 'host_not_allowed'
  | 'invalid_url';

/**
 * A destination the guarded HTTP layer will not reach: raised before a request is built (scheme, host
 * allow-list, an address literal) or from the socket's DNS lookup, before it connects. It carries no
 * provider (the connect-time check serves every provider); `classify` makes it a ConnectorError.
 */
export interface OutboundRefusal extends Error {
  readonly code: 'EOUTBOUND_FORBIDDEN';
  readonly rule: OutboundRule;
  readonly host: string;
  readonly address?: string;
}

/**
 * A plain Error with the refusal's fields, not a subclass: fetch passes an error from its dispatcher on
 * as the cause only when it looks like an Error (its constructor named `Error`), and a subclass made in
 * another realm (a test runner's sandbox) does not, so the rule would be lost.
 */
export function outboundRefusal(rule: OutboundRule, host: string, address?: string): OutboundRefusal {
  const message = `refused to reach ${host}${address && address !== host ? ` (${address})` : ''}: ${RULE_TEXT[rule]}`;
  return Object.assign(new Error(message), { name: 'OutboundRefusal', code: 'EOUTBOUND_FORBIDDEN' as const, rule, host, ...(address !== undefined ? { address } : {}) });
}

export function isOutboundRefusal(e: unknown): e is OutboundRefusal {
  return e instanceof Object && (e as { code?: unknown }).code === 'EOUTBOUND_FORBIDDEN' && typeof (e as { rule?: unknown }).rule === 'string';
}

const RULE_TEXT: Record<OutboundRule, string> = {
  loopback: 'a loopback address',
  private: 'a private network address',
  link_local: 'a link-local address',
  metadata: 'a cloud metadata endpoint',
  cgnat: 'a carrier-grade NAT address',
  multicast: 'a multicast address',
  unspecified: 'an unspecified address',
  reserved: 'a reserved or special-purpose address',
  own_service: "one of this service's own addresses",
  https_required: 'only https is allowed',
  host_not_allowed: "not one of the provider's hosts",
  invalid_url: 'not a valid URL',
};

export function outboundForbidden(provider: string, refusal: OutboundRefusal): ConnectorError {
  return new ConnectorError({
    code: 'outbound_forbidden',
    retryable: false,
    provider,
    message: `${provider}: ${refusal.message}`,
    details: { rule: refusal.rule, host: refusal.host, ...(refusal.address ? { address: refusal.address } : {}) },
    cause: refusal,
  });
}

/** What a failed call looked like, whatever raised it. */
export type Failure =
  | { kind: 'http'; status: number; headers?: Record<string, string | string[] | undefined>; message?: string }
  | { kind: 'error'; error: unknown };

const STATUS_CODES: Record<number, { code: ConnectorErrorCode; retryable: boolean }> = {
  400: { code: 'bad_request', retryable: false },
  401: { code: 'unauthorized', retryable: false },
  403: { code: 'forbidden', retryable: false },
  404: { code: 'not_found', retryable: false },
  408: { code: 'timeout', retryable: true },
  409: { code: 'conflict', retryable: false },
  422: { code: 'unprocessable', retryable: false },
  429: { code: 'rate_limited', retryable: true },
};

// Node's and undici's names for a connection that never happened or broke mid-way.
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED', 'ECONNABORTED',
]);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Retry-After as seconds or an HTTP date, in milliseconds from `now`; undefined if absent or nonsense. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(raw.trim())) return Math.round(Number(raw.trim()) * 1000);
  const date = Date.parse(raw);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function header(headers: Record<string, string | string[] | undefined> | undefined, name: string) {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/** Walks `cause` chains: SDKs wrap the socket error that tells us what really happened. */
function errorCodes(error: unknown): { codes: string[]; names: string[]; status?: number; classified?: ConnectorError | OutboundRefusal } {
  const codes: string[] = [];
  const names: string[] = [];
  let status: number | undefined;
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    // fetch and gaxios wrap what our own guard raised: that verdict stands as it is.
    if (e instanceof ConnectorError || isOutboundRefusal(e)) return { codes, names, classified: e };
    const obj = e as { code?: unknown; errno?: unknown; name?: unknown; status?: unknown; statusCode?: unknown; cause?: unknown };
    if (typeof obj.code === 'string') codes.push(obj.code);
    if (typeof obj.errno === 'string') codes.push(obj.errno);
    if (typeof obj.name === 'string') names.push(obj.name);
    const s = typeof obj.status === 'number' ? obj.status : typeof obj.statusCode === 'number' ? obj.statusCode : undefined;
    if (status === undefined && s !== undefined && s >= 100) status = s;
    e = obj.cause;
  }
  return { codes, names, ...(status !== undefined ? { status } : {}) };
}

/**
 * Maps an HTTP status or a thrown error to a ConnectorError. Network failures, timeouts, 408, 429 and
 * 5xx retry (429/503 honour Retry-After); 400, 401, 403, 404, 409 and 422 do not. (A 401 on an OAuth
 * provider is refreshed once by the connector before it ever reaches here.)
 */
export function classify(provider: string, failure: Failure, now: number = Date.now()): ConnectorError {
  if (failure.kind === 'error') {
    if (failure.error instanceof ConnectorError) return failure.error;
    const { codes, names, status, classified } = errorCodes(failure.error);
    if (classified) return classified instanceof ConnectorError ? classified : outboundForbidden(provider, classified);
    const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
    if (names.includes('TimeoutError') || names.includes('AbortError') || codes.some((c) => TIMEOUT_CODES.has(c))) {
      return new ConnectorError({ code: 'timeout', retryable: true, provider, message: `${provider} did not answer in time`, cause: failure.error });
    }
    if (codes.some((c) => NETWORK_CODES.has(c)) || (names.includes('TypeError') && /fetch failed|socket|network/i.test(message))) {
      return new ConnectorError({ code: 'network', retryable: true, provider, message: `Could not reach ${provider}: ${codes[0] ?? message}`, cause: failure.error });
    }
    // SDK errors (Stripe, Twilio, googleapis) carry the HTTP status they received.
    if (status !== undefined) {
      const headers = (failure.error as { headers?: Record<string, string> }).headers;
      return classify(provider, { kind: 'http', status, ...(headers ? { headers } : {}), message }, now);
    }
    return new ConnectorError({ code: 'unexpected_response', retryable: false, provider, message, cause: failure.error });
  }

  const { status } = failure;
  const retryAfterMs = parseRetryAfter(header(failure.headers, 'retry-after'), now);
  const detail = failure.message ? `: ${failure.message}` : '';
  const known = STATUS_CODES[status];
  if (known) {
    return new ConnectorError({
      ...known,
      provider,
      status,
      message: `${provider} answered ${status}${detail}`,
      ...(known.retryable && retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  if (status >= 500) {
    return new ConnectorError({
      code: 'provider_unavailable',
      retryable: true,
      provider,
      status,
      message: `${provider} answered ${status}${detail}`,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  // Any other 4xx means our request is wrong: retrying the same request cannot help.
  return new ConnectorError({ code: 'bad_request', retryable: false, provider, status, message: `${provider} answered ${status}${detail}` });
}
