import nock from 'nock';
import { classify, ConnectorError, parseRetryAfter } from '../../connectors/errors';
import { vendorHttp, type HttpClientOptions } from '../../connectors/http';
import { testOutbound } from '../support/connectors';

/** A client of a provider of our own whose one host is api.acme.test. */
const createHttpClient = ({ timeoutMs, ...opts }: HttpClientOptions & { timeoutMs: number }) =>
  vendorHttp({ provider: 'acme', hosts: ['api.acme.test'], guard: testOutbound(), timeoutMs }).client(opts);

const NOW = Date.parse('2026-11-23T12:00:00Z');

describe('classify', () => {
  it.each([
    [400, 'bad_request', false],
    [401, 'unauthorized', false],
    [403, 'forbidden', false],
    [404, 'not_found', false],
    [408, 'timeout', true],
    [409, 'conflict', false],
    [410, 'bad_request', false],
    [422, 'unprocessable', false],
    [429, 'rate_limited', true],
    [500, 'provider_unavailable', true],
    [502, 'provider_unavailable', true],
    [503, 'provider_unavailable', true],
    [504, 'provider_unavailable', true],
  ] as const)('HTTP %i -> %s, retryable %s', (status, code, retryable) => {
    const error = classify('acme', { kind: 'http', status }, NOW);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ code, retryable, status, provider: 'acme', retryAfterMs: undefined });
  });

  it('honours Retry-After in seconds and as an HTTP date on retryable answers only', () => {
    expect(classify('acme', { kind: 'http', status: 429, headers: { 'Retry-After': '7' } }, NOW).retryAfterMs).toBe(7000);
    expect(classify('acme', { kind: 'http', status: 503, headers: { 'retry-after': 'Mon, 23 Nov 2026 12:00:30 GMT' } }, NOW).retryAfterMs).toBe(30_000);
    expect(classify('acme', { kind: 'http', status: 400, headers: { 'retry-after': '7' } }, NOW).retryAfterMs).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
  });

  it.each([
    ['ECONNRESET', 'network'],
    ['ECONNREFUSED', 'network'],
    ['ENOTFOUND', 'network'],
    ['UND_ERR_SOCKET', 'network'],
    ['ETIMEDOUT', 'timeout'],
  ])('a socket error %s (even wrapped in a cause) -> %s, retryable', (code, expected) => {
    const wrapped = new TypeError('fetch failed', { cause: Object.assign(new Error('socket'), { code }) });
    expect(classify('acme', { kind: 'error', error: wrapped })).toMatchObject({ code: expected, retryable: true });
  });

  it('treats an abort by our own timeout as a retryable timeout', () => {
    const abort = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(classify('acme', { kind: 'error', error: abort })).toMatchObject({ code: 'timeout', retryable: true });
  });

  it('reads the HTTP status an SDK error carries', () => {
    const sdkError = Object.assign(new Error('Rate limit'), { statusCode: 429, headers: { 'retry-after': '2' } });
    expect(classify('acme', { kind: 'error', error: sdkError }, NOW)).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 2000, status: 429 });
  });

  it('does not retry an error it cannot explain', () => {
    expect(classify('acme', { kind: 'error', error: new Error('???') })).toMatchObject({ code: 'unexpected_response', retryable: false });
  });
});

describe('the HTTP client', () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => {
    expect(nock.isDone()).toBe(true);
    nock.cleanAll();
  });
  afterAll(() => nock.enableNetConnect());

  it('refreshes once on 401 and retries with the new token', async () => {
    let token = 'old';
    let refreshes = 0;
    const http = createHttpClient({
      baseUrl: 'https://api.acme.test/v1',
      timeoutMs: 1000,
      headers: () => ({ authorization: `Bearer ${token}` }),
      onUnauthorized: async () => {
        refreshes++;
        token = 'new';
        return true;
      },
    });
    nock('https://api.acme.test', { reqheaders: { authorization: 'Bearer old' } }).get('/v1/me').reply(401, { error: 'expired' });
    nock('https://api.acme.test', { reqheaders: { authorization: 'Bearer new' } }).get('/v1/me').reply(200, { ok: true }, { 'content-type': 'application/json' });
    await expect(http.request({ method: 'GET', path: '/me' })).resolves.toMatchObject({ status: 200, body: { ok: true } });
    expect(refreshes).toBe(1);
  });

  it('gives up after a second 401 without refreshing again', async () => {
    let refreshes = 0;
    const http = createHttpClient({
      baseUrl: 'https://api.acme.test',
      timeoutMs: 1000,
      onUnauthorized: async () => {
        refreshes++;
        return true;
      },
    });
    nock('https://api.acme.test').get('/me').times(2).reply(401, { message: 'revoked' }, { 'content-type': 'application/json' });
    await expect(http.request({ method: 'GET', path: '/me' })).rejects.toMatchObject({ code: 'unauthorized', retryable: false, status: 401 });
    expect(refreshes).toBe(1);
  });

  it('times out a provider that does not answer', async () => {
    const http = createHttpClient({ baseUrl: 'https://api.acme.test', timeoutMs: 50 });
    nock('https://api.acme.test').get('/slow').delay(500).reply(200, {});
    await expect(http.request({ method: 'GET', path: '/slow' })).rejects.toMatchObject({ code: 'timeout', retryable: true });
  });
});
