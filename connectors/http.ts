import { classify, ConnectorError } from './errors';

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
  provider: string;
  baseUrl: string;
  /** Every call has one: a provider that hangs must not hold a worker slot forever. */
  timeoutMs: number;
  /** Headers added to every request (auth). Called per request so a refreshed token is picked up. */
  headers?: () => Promise<Record<string, string>> | Record<string, string>;
  /**
   * Called once when a request gets 401. Return true if credentials were refreshed: the request is
   * then retried once, and a second 401 is final.
   */
  onUnauthorized?: () => Promise<boolean>;
}

/** A small fetch client: JSON in and out, a timeout on every call, every failure a ConnectorError. */
export function createHttpClient(opts: HttpClientOptions): HttpClient {
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
    let res: Response;
    try {
      res = await fetch(url, { method: req.method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(opts.timeoutMs) });
    } catch (err) {
      throw classify(opts.provider, { kind: 'error', error: err });
    }
    const text = await res.text().catch(() => '');
    const responseHeaders = Object.fromEntries(res.headers.entries());
    let parsed: unknown = text;
    if (text && (res.headers.get('content-type') ?? '').includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        if (res.ok) {
          throw new ConnectorError({ code: 'unexpected_response', retryable: false, provider: opts.provider, status: res.status, message: `${opts.provider} sent invalid JSON` });
        }
      }
    }
    if (!res.ok) {
      throw classify(opts.provider, { kind: 'http', status: res.status, headers: responseHeaders, message: providerMessage(parsed) });
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

/** A short, safe description from an error body: providers put it in different places. */
function providerMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.slice(0, 200) || undefined;
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const candidates = [b.detail, b.title, b.message, (b.error as Record<string, unknown> | undefined)?.message, b.error_description, b.error];
  const found = candidates.find((c) => typeof c === 'string');
  return typeof found === 'string' ? found.slice(0, 200) : undefined;
}
