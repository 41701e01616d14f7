import { useNock } from '../../support/nock';
import nock from 'nock';
import Stripe from 'stripe';
import { stripe } from '../../../connectors/payment/stripe';
import { stripeFailure } from '../../../connectors/payment/stripe/client';
import {
  customerUpdateParams,
  pickCustomer,
  sdkAddress,
  stripeIdempotencyKey,
  subscriptionInterestMetadata,
  toStripeMetadata,
} from '../../../connectors/payment/stripe/mapping';
import { context, connectorFailure } from '../../support/connectors';

// Request shapes from https://docs.stripe.com/api/customers (list, create, update) and
// https://docs.stripe.com/api/idempotent_requests. Bodies are form-encoded, metadata as metadata[key].
const API = 'https://api.stripe.com';
const KEY = 'sk_test_tourhub0123456789';
const person = { email: 'jane@example.com', firstName: 'Jane', lastName: 'Doe', phone: '+15555550100', externalId: 'user-1', weddingDate: '2027-06-12' };

function connector(deployment: { baseUrl?: string } = {}, timeoutMs = 2000) {
  return stripe.create(context(stripe, { secretKey: KEY }, {}, { timeoutMs, ...deployment }));
}

/** Every call: bearer auth and the SDK's pinned API version. */
function api(base = API, extraHeaders: Record<string, string> = {}) {
  return nock(base, {
    reqheaders: { authorization: `Bearer ${KEY}`, 'stripe-version': Stripe.API_VERSION, ...extraHeaders },
  });
}

/** Writes: also form-encoded with an Idempotency-Key. */
function write(idempotencyKey: string, base = API) {
  return api(base, { 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': idempotencyKey });
}

const customer = (fields: Record<string, unknown>) => ({ object: 'customer', id: 'cus_1', email: person.email, name: null, phone: null, metadata: {}, ...fields });
const list = (data: unknown[]) => ({ object: 'list', url: '/v1/customers', has_more: false, data });


useNock();

describe('stripe connector requests', () => {
  it('upsertCustomer lists by email, then creates the customer with an Idempotency-Key', async () => {
    const lookup = nock(API, { reqheaders: { authorization: `Bearer ${KEY}`, 'stripe-version': Stripe.API_VERSION }, badheaders: ['idempotency-key'] })
      .get('/v1/customers')
      .query({ email: 'jane@example.com', limit: '10' })
      .reply(200, list([]));
    const create = write('evt-1:crm:customer.create')
      .post('/v1/customers', {
        email: 'jane@example.com',
        name: 'Jane Doe',
        phone: '+15555550100',
        metadata: { tourhub_user_id: 'user-1', tourhub_wedding_date: '2027-06-12', tour: 'onboarding' },
      })
      .reply(200, customer({ id: 'cus_new' }));

    const result = await connector().upsertCustomer({ person, metadata: { tour: 'onboarding' } }, { idempotencyKey: 'evt-1:crm' });

    expect(result).toEqual({ customerId: 'cus_new' });
    expect(lookup.isDone()).toBe(true);
    expect(create.isDone()).toBe(true);
  });

  it('upsertCustomer keeps the planner’s name on an existing customer and only adds missing fields and metadata', async () => {
    const lookup = api()
      .get('/v1/customers')
      .query({ email: 'jane@example.com', limit: '10' })
      .reply(200, list([customer({ id: 'cus_other', metadata: {} }), customer({ id: 'cus_1', name: 'J. Doe (billing)', metadata: { tourhub_user_id: 'user-1' } })]));
    const update = write('evt-2:customer.update')
      .post('/v1/customers/cus_1', { phone: '+15555550100', metadata: { tourhub_wedding_date: '2027-06-12' } })
      .reply(200, customer({ id: 'cus_1' }));

    const result = await connector().upsertCustomer({ person }, { idempotencyKey: 'evt-2' });

    expect(result).toEqual({ customerId: 'cus_1' });
    expect(lookup.isDone()).toBe(true);
    expect(update.isDone()).toBe(true);
  });

  it('upsertCustomer writes nothing when the existing customer already has everything', async () => {
    const lookup = api()
      .get('/v1/customers')
      .query({ email: 'jane@example.com', limit: '10' })
      .reply(200, list([customer({ name: 'Jane Doe', phone: '+15555550100', metadata: { tourhub_user_id: 'user-1', tourhub_wedding_date: '2027-06-12' } })]));

    await expect(connector().upsertCustomer({ person }, { idempotencyKey: 'evt-3' })).resolves.toEqual({ customerId: 'cus_1' });
    expect(lookup.isDone()).toBe(true);
  });

  it('sends the same Idempotency-Key when the same write is retried with the same key', async () => {
    const seen: string[] = [];
    const scope = api()
      .get('/v1/customers')
      .query(true)
      .times(2)
      .reply(200, list([]))
      .post('/v1/customers')
      .times(2)
      .reply(function () {
        seen.push(String(this.req.headers['idempotency-key']));
        return [200, customer({ id: 'cus_new' })];
      });

    await connector().upsertCustomer({ person }, { idempotencyKey: 'evt-4' });
    await connector().upsertCustomer({ person }, { idempotencyKey: 'evt-4' });

    expect(seen).toEqual(['evt-4:customer.create', 'evt-4:customer.create']);
    expect(scope.isDone()).toBe(true);
  });

  it('recordSubscriptionInterest updates the customer’s metadata with an Idempotency-Key', async () => {
    const update = write('evt-5:subscription-interest')
      .post('/v1/customers/cus_1', {
        metadata: { tourhub_plan_interest: 'premium', tourhub_plan_interest_source: 'tour:onboarding', tourhub_plan_interest_at: '2026-11-23T12:00:00.000Z' },
      })
      .reply(200, customer({}));

    await connector().recordSubscriptionInterest(
      { customerId: 'cus_1', plan: 'premium', source: 'tour:onboarding', occurredAt: '2026-11-23T12:00:00.000Z' },
      { idempotencyKey: 'evt-5' },
    );

    expect(update.isDone()).toBe(true);
  });

  it('ping lists one customer', async () => {
    const scope = api().get('/v1/customers').query({ limit: '1' }).reply(200, list([]));
    await connector().ping();
    expect(scope.isDone()).toBe(true);
  });

  it('talks to the host, port and protocol of the deployment’s base URL (a loopback fake)', async () => {
    const scope = api('http://127.0.0.1:12111').get('/v1/customers').query({ limit: '1' }).reply(200, list([]));
    await connector({ baseUrl: 'http://127.0.0.1:12111' }).ping();
    expect(scope.isDone()).toBe(true);
  });

  it('keeps the status of an error answered without a JSON body (a proxy’s 502 page)', async () => {
    const scope = api().get('/v1/customers').query(true).reply(502, '<html>Bad gateway</html>', { 'content-type': 'text/html' });
    const err = await connectorFailure(connector().ping());
    expect(err).toMatchObject({ code: 'provider_unavailable', retryable: true, status: 502 });
    expect(scope.isDone()).toBe(true);
  });
});

describe('stripe error mapping (the SDK-based provider)', () => {
  type Case = {
    name: string;
    reply: (scope: nock.Interceptor) => nock.Scope;
    attempts?: number;
    timeoutMs?: number;
    expected: { code: string; retryable: boolean; status?: number; retryAfterMs?: number };
  };
  const stripeError = (type: string, message: string) => ({ error: { type, message } });
  const cases: Case[] = [
    { name: '400', reply: (i) => i.reply(400, stripeError('invalid_request_error', 'Invalid email')), expected: { code: 'bad_request', retryable: false, status: 400 } },
    { name: '401', reply: (i) => i.reply(401, stripeError('invalid_request_error', 'Invalid API Key provided')), expected: { code: 'unauthorized', retryable: false, status: 401 } },
    { name: '403', reply: (i) => i.reply(403, stripeError('invalid_request_error', 'The provided key does not have access')), expected: { code: 'forbidden', retryable: false, status: 403 } },
    { name: '404', reply: (i) => i.reply(404, stripeError('invalid_request_error', 'No such customer')), expected: { code: 'not_found', retryable: false, status: 404 } },
    { name: '409', reply: (i) => i.reply(409, stripeError('invalid_request_error', 'Conflict')), expected: { code: 'conflict', retryable: false, status: 409 } },
    { name: '422', reply: (i) => i.reply(422, stripeError('invalid_request_error', 'Unprocessable')), expected: { code: 'unprocessable', retryable: false, status: 422 } },
    { name: '429 without Retry-After', reply: (i) => i.reply(429, stripeError('rate_limit_error', 'Too many requests')), expected: { code: 'rate_limited', retryable: true, status: 429 } },
    {
      name: '429 with Retry-After',
      reply: (i) => i.reply(429, stripeError('rate_limit_error', 'Too many requests'), { 'Retry-After': '7' }),
      expected: { code: 'rate_limited', retryable: true, status: 429, retryAfterMs: 7000 },
    },
    { name: '500', reply: (i) => i.reply(500, stripeError('api_error', 'Something went wrong')), expected: { code: 'provider_unavailable', retryable: true, status: 500 } },
    { name: '502', reply: (i) => i.reply(502, stripeError('api_error', 'Bad gateway')), expected: { code: 'provider_unavailable', retryable: true, status: 502 } },
    { name: '503', reply: (i) => i.reply(503, stripeError('api_error', 'Unavailable')), expected: { code: 'provider_unavailable', retryable: true, status: 503 } },
    {
      // The SDK retries a connection closed before an answer once, even with maxNetworkRetries: 0.
      name: 'connection reset',
      attempts: 2,
      reply: (i) => i.replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
      expected: { code: 'network', retryable: true },
    },
    { name: 'timeout', timeoutMs: 100, reply: (i) => i.delay(1000).reply(200, customer({})), expected: { code: 'timeout', retryable: true } },
  ];

  it.each(cases)('$name -> $expected.code', async ({ reply, attempts = 1, timeoutMs = 2000, expected }) => {
    const scope = reply(write('evt-err:subscription-interest').post('/v1/customers/cus_1').times(attempts));

    const err = await connectorFailure(
      connector({}, timeoutMs).recordSubscriptionInterest({ customerId: 'cus_1', plan: 'premium', source: 'tour', occurredAt: '2026-11-23T12:00:00Z' }, { idempotencyKey: 'evt-err' }),
    );

    expect(err.provider).toBe('stripe');
    expect({ code: err.code, retryable: err.retryable, status: err.status, retryAfterMs: err.retryAfterMs }).toEqual({
      status: undefined,
      retryAfterMs: undefined,
      ...expected,
    });
    expect(scope.isDone()).toBe(true);
  });
});

describe('stripe SDK errors', () => {
  it('reads the socket error the SDK keeps in StripeConnectionError.detail (its own timeout, a reset)', () => {
    const timedOut = new Stripe.errors.StripeConnectionError({ message: 'Request aborted due to timeout being reached (300ms)', detail: Object.assign(new TypeError('ETIMEDOUT'), { code: 'ETIMEDOUT' }) } as never);
    const reset = new Stripe.errors.StripeConnectionError({ message: 'An error occurred with our connection to Stripe.', detail: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) } as never);
    expect(stripeFailure(timedOut)).toMatchObject({ code: 'timeout', retryable: true });
    expect(stripeFailure(reset)).toMatchObject({ code: 'network', retryable: true });
  });

  it('reads status and Retry-After from a StripeError as the SDK raises it', () => {
    const limited = Stripe.errors.StripeError.generate({ type: 'rate_limit_error', message: 'Too many', statusCode: 429, headers: { 'retry-after': '3' } } as never);
    expect(stripeFailure(limited)).toMatchObject({ code: 'rate_limited', retryable: true, status: 429, retryAfterMs: 3000 });
  });
});

describe('stripe mapping', () => {
  it('derives one Idempotency-Key per operation from the caller’s key, stable across calls', () => {
    expect(stripeIdempotencyKey('tour:o:u:t:3:route-1', 'customer.create')).toBe('tour:o:u:t:3:route-1:customer.create');
    expect(stripeIdempotencyKey('k', 'customer.update')).not.toBe(stripeIdempotencyKey('k', 'subscription-interest'));
  });

  it('hashes keys that would pass Stripe’s 255-character limit', () => {
    const long = 'x'.repeat(300);
    const key = stripeIdempotencyKey(long, 'subscription-interest');
    expect(key.length).toBeLessThanOrEqual(255);
    expect(key).toBe(stripeIdempotencyKey(long, 'subscription-interest'));
    expect(key).not.toBe(stripeIdempotencyKey('y'.repeat(300), 'subscription-interest'));
  });

  it('drops metadata keys Stripe rejects and truncates long values', () => {
    expect(toStripeMetadata({ ok: 'v', ['k'.repeat(41)]: 'too long key', 'a[b]': 'brackets', empty: undefined, long: 'z'.repeat(600) })).toEqual({
      ok: 'v',
      long: 'z'.repeat(500),
    });
  });

  it('fills only missing name and phone and only changed metadata on an existing customer', () => {
    expect(customerUpdateParams({ id: 'c', name: 'Billing Name', phone: null, metadata: { tourhub_user_id: 'user-1' } }, person)).toEqual({
      phone: '+15555550100',
      metadata: { tourhub_wedding_date: '2027-06-12' },
    });
    expect(customerUpdateParams({ id: 'c', name: 'x', phone: 'y', metadata: { tourhub_user_id: 'user-1', tourhub_wedding_date: '2027-06-12' } }, person)).toEqual({});
  });

  it('prefers the customer linked to our user, else the newest', () => {
    const a = { id: 'a', metadata: {} };
    const b = { id: 'b', metadata: { tourhub_user_id: 'user-1' } };
    expect(pickCustomer([a, b], person)?.id).toBe('b');
    expect(pickCustomer([a, b], { email: person.email })?.id).toBe('a');
    expect(pickCustomer([], person)).toBeUndefined();
  });

  it('records the plan, source and time of a subscription interest', () => {
    expect(subscriptionInterestMetadata({ plan: 'p', source: 's', occurredAt: 't' })).toEqual({
      tourhub_plan_interest: 'p',
      tourhub_plan_interest_source: 's',
      tourhub_plan_interest_at: 't',
    });
  });

  it('turns the deployment’s base URL into the SDK’s host, port and protocol', () => {
    expect(sdkAddress('http://127.0.0.1:12111')).toEqual({ host: '127.0.0.1', port: 12111, protocol: 'http' });
    expect(sdkAddress('https://stripe.example')).toEqual({ host: 'stripe.example', port: 443, protocol: 'https' });
    expect(sdkAddress(undefined)).toBeUndefined();
  });
});

// Issue 14: a couple's details as people type them. Both failed before the mappings normalised input.
describe('stripe with real-world input (issue 14)', () => {
  it('sends a phone typed with an extension as E.164 within Stripe’s 20-character limit', async () => {
    let sentPhone: unknown;
    api().get('/v1/customers').query(true).reply(200, list([]));
    api()
      .post('/v1/customers')
      .reply(function (_uri, body) {
        sentPhone = new URLSearchParams(String(body)).get('phone');
        return [200, customer({ id: 'cus_ext' })];
      });

    await connector().upsertCustomer({ person: { email: 'ada@example.com', phone: '+1 (415) 555-0123 ext. 1234' } }, { idempotencyKey: 'evt-phone' });

    expect(sentPhone).toBe('+14155550123');
    expect(String(sentPhone).length).toBeLessThanOrEqual(20);
  });

  it('finds and creates customers by the lower-cased email, so Ada@Example.com and ada@example.com are one customer', async () => {
    const customers: { id: string; email: string }[] = [];
    const scope = api()
      .get('/v1/customers')
      .query(true)
      .times(2)
      // Stripe's email filter is case-sensitive: only an exact match is listed.
      .reply((uri) => [200, list(customers.filter((c) => c.email === new URL(uri, API).searchParams.get('email')).map((c) => customer(c)))])
      .post('/v1/customers')
      .reply((_uri, body) => {
        const created = { id: `cus_${customers.length + 1}`, email: String(new URLSearchParams(String(body)).get('email')) };
        customers.push(created);
        return [200, customer(created)];
      });

    const first = await connector().upsertCustomer({ person: { email: 'Ada@Example.com' } }, { idempotencyKey: 'evt-case-1' });
    const second = await connector().upsertCustomer({ person: { email: 'ada@example.com' } }, { idempotencyKey: 'evt-case-2' });

    expect(customers).toEqual([{ id: 'cus_1', email: 'ada@example.com' }]);
    expect(second).toEqual(first);
    expect(scope.isDone()).toBe(true);
  });
});
