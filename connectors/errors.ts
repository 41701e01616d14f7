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
  | 'misconfigured';

export class ConnectorError extends Error {
  readonly code: ConnectorErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly provider: string;
  readonly status: number | undefined;

  constructor(fields: {
    code: ConnectorErrorCode;
    retryable: boolean;
    provider: string;
    message: string;
    status?: number;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    super(fields.message, fields.cause !== undefined ? { cause: fields.cause } : undefined);
    this.name = 'ConnectorError';
    this.code = fields.code;
    this.retryable = fields.retryable;
    this.provider = fields.provider;
    this.status = fields.status;
    this.retryAfterMs = fields.retryAfterMs;
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
    };
  }
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
function errorCodes(error: unknown): { codes: string[]; names: string[]; status?: number } {
  const codes: string[] = [];
  const names: string[] = [];
  let status: number | undefined;
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
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
    const { codes, names, status } = errorCodes(failure.error);
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
