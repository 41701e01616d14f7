import { useNock } from '../../support/nock';
import nock from 'nock';
import Stripe from 'stripe';
import { stripe } from '../../../connectors/payment/stripe';
import { context, connectorFailure } from '../../support/connectors';

// https://docs.stripe.com/api/customers/list (limit, starting_after, has_more) and
// https://docs.stripe.com/api/events/list (types[], created[gt]; events are kept 30 days).
const API = 'https://api.stripe.com';
const KEY = 'sk_test_tourhub0123456789';
const STARTED = Date.parse('2026-11-28T12:00:00Z');

const payment = () => stripe.create(context(stripe, { secretKey: KEY }, {}));
const api = () => nock(API, { reqheaders: { authorization: `Bearer ${KEY}`, 'stripe-version': Stripe.API_VERSION } });
const customer = (id: string, fields: Record<string, unknown>) => ({ object: 'customer', id, email: 'jane@example.com', name: null, phone: null, metadata: {}, ...fields });

useNock({ assertDone: true });

describe('stripe two-way sync reads', () => {
  it('a full pass lists every customer by id with starting_after, skipping those without an email', async () => {
    api()
      .get('/v1/customers')
      .query({ limit: 100 })
      .reply(200, { object: 'list', has_more: true, data: [customer('cus_1', { name: 'Jane Doe', metadata: { tourhub_user_id: 'u1' } }), customer('cus_2', { email: null })] });
    api().get('/v1/customers').query({ limit: 100, starting_after: 'cus_2' }).reply(200, { object: 'list', has_more: false, data: [customer('cus_3', { email: 'b@example.com' })] });
    const first = await payment().listChanges!({ pageSize: 500, startedAt: STARTED });
    expect(first).toEqual({ nextPage: 'cus_2', records: [{ key: 'jane@example.com', remoteId: 'cus_1', fields: { name: 'Jane Doe', phone: null, user_id: 'u1' }, updatedAt: null }] });
    const last = await payment().listChanges!({ pageSize: 500, page: 'cus_2', startedAt: STARTED });
    expect(last).toEqual({ cursor: '2026-11-28T12:00:00.000Z', records: [expect.objectContaining({ key: 'b@example.com', remoteId: 'cus_3' })] });
  });

  it('an incremental pass reads customer.created and customer.updated events since the cursor, each with its time', async () => {
    const since = '2026-11-27T12:00:00.000Z';
    api()
      .get('/v1/events')
      .query({ 'types[0]': 'customer.created', 'types[1]': 'customer.updated', 'created[gt]': String(Date.parse(since) / 1000), limit: 10 })
      .reply(200, { object: 'list', has_more: false, data: [{ id: 'evt_1', object: 'event', created: 1764331200, type: 'customer.updated', data: { object: customer('cus_1', { phone: '+15555550100' }) } }] });
    const result = await payment().listChanges!({ cursor: since, pageSize: 10, startedAt: STARTED });
    expect(result).toEqual({
      cursor: '2026-11-28T12:00:00.000Z',
      records: [{ key: 'jane@example.com', remoteId: 'cus_1', fields: { name: null, phone: '+15555550100', user_id: null }, updatedAt: '2025-11-28T12:00:00.000Z' }],
    });
  });

  it('a cursor older than the 30 days Stripe keeps events needs a full pass', async () => {
    const err = await connectorFailure(payment().listChanges!({ cursor: '2026-10-01T00:00:00.000Z', pageSize: 10, startedAt: STARTED }));
    expect(err).toMatchObject({ code: 'cursor_expired', retryable: false });
  });
});
