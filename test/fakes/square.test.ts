import type { PaymentConnector } from '../../connectors/contracts';
import { squareIdempotencyKey } from '../../connectors/payment/square/mapping';
import { connectToFake, useFake } from '../support/fake-clients';
import type { SquareFakeState } from './square';

const person = { email: 'Ada@Example.com', firstName: 'Ada', lastName: 'Lovelace', phone: '+44 20 7946 0958 #99', externalId: 'user-1' };
const interest = { plan: 'premium', source: 'tour_completed', occurredAt: '2026-11-23T12:00:00.000Z' };
const fake = useFake('square');
const state = () => fake.state as SquareFakeState;

describe('Square fake (Customers and Customer Custom Attributes APIs)', () => {
  it('creates the customer once (found by its lower-cased email afterwards), and the first interest creates the attribute definition', async () => {
    const payment = connectToFake<'payment'>(fake) as PaymentConnector;
    const { customerId } = await payment.upsertCustomer({ person }, { idempotencyKey: 'sq-1:customer' });
    await expect(payment.upsertCustomer({ person: { ...person, email: 'ADA@example.COM' } }, { idempotencyKey: 'sq-2:customer' })).resolves.toEqual({ customerId });
    await payment.recordSubscriptionInterest({ customerId, ...interest }, { idempotencyKey: 'sq-1' });

    expect(state().customers.get(customerId)).toMatchObject({ email_address: 'ada@example.com', given_name: 'Ada', family_name: 'Lovelace', phone_number: '+442079460958', reference_id: 'user-1' });
    expect(state().attributes.get(`${customerId}:tourhub-plan-interest`)).toBe('premium (tour_completed, 2026-11-23T12:00:00.000Z)');
    expect(fake.calls().map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      'POST /v2/customers/search 200',
      'POST /v2/customers 200',
      'POST /v2/customers/search 200',
      `POST /v2/customers/${customerId}/custom-attributes/tourhub-plan-interest 404`,
      'POST /v2/customers/custom-attribute-definitions 200',
      `POST /v2/customers/${customerId}/custom-attributes/tourhub-plan-interest 200`,
    ]);
    expect(fake.calls().every((c) => c.headers['square-version'] !== undefined)).toBe(true);
  });

  it('a write cut off mid-call and retried with the same idempotency_key gets the first answer: one customer, one effect', async () => {
    const newcomer = { ...person, email: 'grace@example.com', externalId: 'user-2' };
    fake.setLatency(300);
    const impatient = connectToFake<'payment'>(fake, { timeoutMs: 150 }) as PaymentConnector;
    await expect(impatient.upsertCustomer({ person: newcomer }, { idempotencyKey: 'sq-3:customer' })).rejects.toMatchObject({ code: 'timeout' });
    fake.setLatency(0);
    // The search ran first and timed out; the retry searches again, finds nobody yet, and creates.
    const payment = connectToFake<'payment'>(fake) as PaymentConnector;
    const { customerId } = await payment.upsertCustomer({ person: newcomer }, { idempotencyKey: 'sq-3:customer' });
    fake.setLatency(300);
    await expect(impatient.recordSubscriptionInterest({ customerId, ...interest }, { idempotencyKey: 'sq-3' })).rejects.toMatchObject({ code: 'timeout' });
    fake.setLatency(0);
    await payment.recordSubscriptionInterest({ customerId, ...interest }, { idempotencyKey: 'sq-3' });

    const upsertKey = squareIdempotencyKey('sq-3', 'attribute.upsert');
    expect(fake.countsByKey().get(upsertKey)).toBe(2);
    expect(fake.effects().get(upsertKey)).toBe(1);
    expect(fake.calls().filter((c) => c.key === upsertKey).map((c) => c.outcome)).toEqual(['applied', 'deduplicated']);
    expect([...state().customers.values()].filter((c) => c.email_address === 'grace@example.com')).toHaveLength(1);
  });

  it('refuses a wrong access token (401) and a key reused with other parameters (400)', async () => {
    const wrong = connectToFake<'payment'>(fake, { credentials: { accessToken: 'EAAAwrongwrongwrongwrongwrong' } }) as PaymentConnector;
    await expect(wrong.ping()).rejects.toMatchObject({ code: 'unauthorized', retryable: false, status: 401 });
    const payment = connectToFake<'payment'>(fake) as PaymentConnector;
    const { customerId } = await payment.upsertCustomer({ person }, { idempotencyKey: 'sq-1:customer' });
    await expect(payment.recordSubscriptionInterest({ customerId, ...interest, plan: 'basic' }, { idempotencyKey: 'sq-1' })).rejects.toMatchObject({ code: 'bad_request', status: 400 });
    await expect(payment.ping()).resolves.toBeUndefined();
  });
});
