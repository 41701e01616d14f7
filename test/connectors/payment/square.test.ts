import { useNock } from '../../support/nock';
import nock from 'nock';
import { square } from '../../../connectors/payment/square';
import { squareIdempotencyKey } from '../../../connectors/payment/square/mapping';
import { context } from '../../support/connectors';
import { ERROR_CASES, expectClassified } from '../error-table';

// Shapes from https://developer.squareup.com/reference/square/customers-api (search, create, list) and the
// Customer Custom Attributes API (upsert a value, create a definition).
const API = 'https://connect.squareupsandbox.com';
const TOKEN = 'EAAAEexampleexampleexample0123';
const json = { 'content-type': 'application/json' };
const connector = () => square.create(context(square, { accessToken: TOKEN }, { environment: 'sandbox' as const }));
const api = () => nock(API, { reqheaders: { authorization: `Bearer ${TOKEN}` } });
const interest = { customerId: 'CUST1', plan: 'premium', source: 'tour_completed', occurredAt: '2026-11-23T12:00:00.000Z' };

useNock({ assertDone: true });

describe('Square connector (official SDK on the guarded fetch)', () => {
  it('upsertCustomer searches by the lower-cased email, then creates the customer with an idempotency key, E.164 phone (its extension in the note) and capped names', async () => {
    api()
      .post('/v2/customers/search', { limit: 10, query: { filter: { email_address: { exact: 'ada@example.com' } } } })
      .reply(200, {}, json);
    api()
      .post('/v2/customers', {
        idempotency_key: squareIdempotencyKey('evt-1', 'customer.create'),
        email_address: 'ada@example.com',
        given_name: 'A'.repeat(300),
        family_name: 'Lovelace',
        phone_number: '+14155550123',
        reference_id: 'user-1',
        note: 'Phone extension: 1234',
      })
      .reply(200, { customer: { id: 'CUST1' } }, json);
    await expect(
      connector().upsertCustomer({ person: { email: 'Ada@Example.com', firstName: 'A'.repeat(400), lastName: 'Lovelace', phone: '+1 (415) 555-0123 ext. 1234', externalId: 'user-1' } }, { idempotencyKey: 'evt-1' }),
    ).resolves.toEqual({ customerId: 'CUST1' });
  });

  it('links the existing customer with our user id instead of creating one', async () => {
    api().post('/v2/customers/search').reply(200, { customers: [{ id: 'OTHER' }, { id: 'MINE', reference_id: 'user-1' }] }, json);
    await expect(connector().upsertCustomer({ person: { email: 'ada@example.com', externalId: 'user-1' } }, { idempotencyKey: 'k' })).resolves.toEqual({ customerId: 'MINE' });
  });

  it('recordSubscriptionInterest upserts the plan-interest attribute with an idempotency key', async () => {
    api()
      .post('/v2/customers/CUST1/custom-attributes/tourhub-plan-interest', {
        custom_attribute: { value: 'premium (tour_completed, 2026-11-23T12:00:00.000Z)' },
        idempotency_key: squareIdempotencyKey('evt-2', 'attribute.upsert'),
      })
      .reply(200, { custom_attribute: { key: 'tourhub-plan-interest' } }, json);
    await connector().recordSubscriptionInterest(interest, { idempotencyKey: 'evt-2' });
  });

  it('creates the attribute definition on first use (404), then sets the value', async () => {
    const upsert = api().post('/v2/customers/CUST1/custom-attributes/tourhub-plan-interest').reply(404, { errors: [{ category: 'INVALID_REQUEST_ERROR', code: 'NOT_FOUND', detail: 'Definition not found' }] }, json);
    api()
      .post('/v2/customers/custom-attribute-definitions', (b) => b.custom_attribute_definition.key === 'tourhub-plan-interest' && b.idempotency_key === squareIdempotencyKey('evt-3', 'attribute.definition'))
      .reply(200, { custom_attribute_definition: { key: 'tourhub-plan-interest' } }, json);
    api().post('/v2/customers/CUST1/custom-attributes/tourhub-plan-interest').reply(200, { custom_attribute: {} }, json);
    await connector().recordSubscriptionInterest(interest, { idempotencyKey: 'evt-3' });
    expect(upsert.isDone()).toBe(true);
  });

  it('sends the same idempotency key when a create is retried after a crash mid-call', async () => {
    const keys: string[] = [];
    api().post('/v2/customers/search').times(2).reply(200, {}, json);
    api()
      .post('/v2/customers')
      .times(2)
      .reply((_uri, body) => {
        keys.push((body as { idempotency_key: string }).idempotency_key);
        return [200, { customer: { id: 'CUST1' } }];
      });
    await connector().upsertCustomer({ person: { email: 'a@b.c' } }, { idempotencyKey: 'evt-4' });
    await connector().upsertCustomer({ person: { email: 'a@b.c' } }, { idempotencyKey: 'evt-4' });
    expect(keys).toEqual([squareIdempotencyKey('evt-4', 'customer.create'), squareIdempotencyKey('evt-4', 'customer.create')]);
    expect(keys[0]!.length).toBeLessThanOrEqual(45);
  });

  it('ping lists one customer', async () => {
    api().get('/v2/customers').query({ limit: '1' }).reply(200, {}, json);
    await connector().ping();
  });

  describe('error classifier', () => {
    it.each(ERROR_CASES)('$name', (c) => expectClassified('square', () => nock(API).post('/v2/customers/CUST1/custom-attributes/tourhub-plan-interest'), () => connector().recordSubscriptionInterest(interest, { idempotencyKey: 'k' }), c));
  });
});
