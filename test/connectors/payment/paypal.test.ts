import { useNock } from '../../support/nock';
import nock from 'nock';
import { paypal } from '../../../connectors/payment/paypal';
import { requestId } from '../../../connectors/payment/paypal/mapping';
import { context } from '../../support/connectors';
import { ERROR_CASES, expectClassified } from '../error-table';

// Shapes from https://developer.paypal.com/api/rest/authentication/ and https://developer.paypal.com/docs/api/subscriptions/v1/.
const API = 'https://api-m.sandbox.paypal.com';
const creds = { clientId: 'client-id-0123', clientSecret: 'client-secret-0123' };
const basic = `Basic ${Buffer.from('client-id-0123:client-secret-0123').toString('base64')}`;
const json = { 'content-type': 'application/json' };
const settings = { environment: 'sandbox' as const, plans: { premium: 'P-5ML4271244454362WXNWU5NQ' } };
const input = { customerId: 'ada@example.com', plan: 'premium', source: 'tour_completed', occurredAt: '2026-11-23T12:00:00.000Z' };

const connector = () => paypal.create(context(paypal, creds, settings));
const token = (value = 'A21AAtoken', times = 1) =>
  nock(API, { reqheaders: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' } })
    .post('/v1/oauth2/token', 'grant_type=client_credentials')
    .times(times)
    .reply(200, { access_token: value, token_type: 'Bearer', expires_in: 32400 }, json);

useNock({ assertDone: true });

describe('PayPal connector', () => {
  it('upsertCustomer makes no call: PayPal has no customer record, the email is the id', async () => {
    await expect(connector().upsertCustomer({ person: { email: 'Ada@Example.com' } }, { idempotencyKey: 'k' })).resolves.toEqual({ customerId: 'ada@example.com' });
  });

  it('recordSubscriptionInterest creates a pending subscription to the mapped plan with PayPal-Request-Id', async () => {
    token();
    nock(API, { reqheaders: { authorization: 'Bearer A21AAtoken', 'paypal-request-id': 'evt-1:payment', prefer: 'return=minimal' } })
      .post('/v1/billing/subscriptions', {
        plan_id: 'P-5ML4271244454362WXNWU5NQ',
        custom_id: 'tourhub:tour_completed:2026-11-23T12:00:00.000Z',
        subscriber: { email_address: 'ada@example.com' },
        application_context: { user_action: 'SUBSCRIBE_NOW', shipping_preference: 'NO_SHIPPING' },
      })
      .reply(201, { id: 'I-BW452GLLEP1G', status: 'APPROVAL_PENDING' }, json);
    await connector().recordSubscriptionInterest(input, { idempotencyKey: 'evt-1:payment' });
  });

  it('sends the same PayPal-Request-Id on a retry after a crash mid-call (PayPal answers the first subscription)', async () => {
    const seen: string[] = [];
    token('A21AAtoken', 2);
    nock(API)
      .post('/v1/billing/subscriptions')
      .times(2)
      .reply(function () {
        seen.push(String(this.req.headers['paypal-request-id']));
        return [201, { id: 'I-SAME', status: 'APPROVAL_PENDING' }];
      });
    await connector().recordSubscriptionInterest(input, { idempotencyKey: 'evt-2' });
    await connector().recordSubscriptionInterest(input, { idempotencyKey: 'evt-2' });
    expect(seen).toEqual(['evt-2', 'evt-2']);
    expect(requestId('x'.repeat(200))).toHaveLength(72);
  });

  it('gets a new token once when PayPal refuses the cached one', async () => {
    token('old');
    token('new');
    nock(API, { reqheaders: { authorization: 'Bearer old' } }).get('/v1/billing/plans').query({ page_size: '1' }).reply(401, { error: 'invalid_token' }, json);
    nock(API, { reqheaders: { authorization: 'Bearer new' } }).get('/v1/billing/plans').query({ page_size: '1' }).reply(200, { plans: [] }, json);
    await connector().ping();
  });

  it('refuses a plan with no PayPal plan mapped as misconfigured', async () => {
    await expect(connector().recordSubscriptionInterest({ ...input, plan: 'gold' }, { idempotencyKey: 'k' })).rejects.toMatchObject({ code: 'misconfigured', retryable: false });
  });

  describe('error classifier', () => {
    it.each(ERROR_CASES.filter((c) => c.name !== '401'))('$name', (c) => {
      token();
      return expectClassified('paypal', () => nock(API).post('/v1/billing/subscriptions'), () => connector().recordSubscriptionInterest(input, { idempotencyKey: 'k' }), c);
    });
    it('401 on the token request', async () => {
      nock(API).post('/v1/oauth2/token').reply(401, { error: 'invalid_client', error_description: 'Client Authentication failed' }, json);
      await expect(connector().ping()).rejects.toMatchObject({ code: 'unauthorized', retryable: false, message: 'paypal answered 401: Client Authentication failed' });
    });
  });
});
