import type nock from 'nock';
import type { ConnectorError } from '../../connectors/errors';
import { connectionReset } from '../support/nock';
import { connectorFailure } from '../support/connectors';

/** The classifier table every provider's connector test runs: HTTP statuses and a reset socket. */
export const ERROR_CASES: { name: string; reply: (i: nock.Interceptor) => nock.Scope; expected: Partial<ConnectorError> }[] = [
  { name: '400', reply: (i) => i.reply(400, { message: 'bad' }, { 'content-type': 'application/json' }), expected: { code: 'bad_request', retryable: false, status: 400 } },
  { name: '401', reply: (i) => i.reply(401, { message: 'no' }, { 'content-type': 'application/json' }), expected: { code: 'unauthorized', retryable: false, status: 401 } },
  { name: '403', reply: (i) => i.reply(403, {}), expected: { code: 'forbidden', retryable: false, status: 403 } },
  { name: '422', reply: (i) => i.reply(422, {}), expected: { code: 'unprocessable', retryable: false, status: 422 } },
  { name: '429 with Retry-After', reply: (i) => i.reply(429, 'Retry later', { 'retry-after': '7' }), expected: { code: 'rate_limited', retryable: true, status: 429, retryAfterMs: 7000 } },
  { name: '500', reply: (i) => i.reply(500, {}), expected: { code: 'provider_unavailable', retryable: true, status: 500 } },
  { name: '503', reply: (i) => i.reply(503, '<html>down</html>', { 'content-type': 'text/html' }), expected: { code: 'provider_unavailable', retryable: true, status: 503 } },
  { name: 'connection reset', reply: (i) => i.replyWithError(connectionReset()), expected: { code: 'network', retryable: true } },
];

/** Runs `call` against each case (the interceptor is the request `call` makes) and checks the ConnectorError. */
export async function expectClassified(provider: string, intercept: () => nock.Interceptor, call: () => Promise<unknown>, c: (typeof ERROR_CASES)[number]): Promise<void> {
  c.reply(intercept());
  const err = await connectorFailure(call());
  expect(err.provider).toBe(provider);
  expect(err).toMatchObject(c.expected);
}
