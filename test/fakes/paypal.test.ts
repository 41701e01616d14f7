import type { PaymentConnector } from '../../connectors/contracts';
import { requestId } from '../../connectors/payment/paypal/mapping';
import { connectToFake, useFake } from '../support/fake-clients';
import type { PayPalFakeState } from './paypal';

const interest = { plan: 'premium', source: 'tour_completed', occurredAt: '2026-11-23T12:00:00.000Z' };
const fake = useFake('paypal');

describe('PayPal fake (OAuth client credentials and Subscriptions v1)', () => {
  it('gets a token, then creates one pending subscription per PayPal-Request-Id, also when the first create was cut off mid-call', async () => {
    const key = 'tour:org:user:tour:7:integration:0:recordSubscriptionInterest';
    const payment = connectToFake<'payment'>(fake) as PaymentConnector;
    const { customerId } = await payment.upsertCustomer({ person: { email: 'Ada@Example.com' } }, { idempotencyKey: `${key}:customer` });
    const impatient = connectToFake<'payment'>(fake, { timeoutMs: 1500 }) as PaymentConnector;
    // Each connector's token is cached from its ping on: only the create is slow.
    await payment.ping();
    await impatient.ping();
    fake.setLatency(3000);
    await expect(impatient.recordSubscriptionInterest({ customerId, ...interest }, { idempotencyKey: key })).rejects.toMatchObject({ code: 'timeout' });
    fake.setLatency(0);
    await payment.recordSubscriptionInterest({ customerId, ...interest }, { idempotencyKey: key });

    expect(fake.countsByKey().get(requestId(key))).toBe(2);
    expect(fake.effects().get(requestId(key))).toBe(1);
    const subscriptions = [...(fake.state as PayPalFakeState).subscriptions.values()];
    expect(subscriptions).toEqual([expect.objectContaining({ status: 'APPROVAL_PENDING', custom_id: 'tourhub:tour_completed:2026-11-23T12:00:00.000Z', subscriber: { email_address: 'ada@example.com' } })]);
    // One token per connector, reused for its create.
    expect(fake.calls().filter((c) => c.path === '/v1/oauth2/token')).toHaveLength(2);
  });

  it('refuses a wrong client secret at the token endpoint (401 invalid_client) and a plan it does not have', async () => {
    const wrong = connectToFake<'payment'>(fake, { credentials: { clientSecret: 'not-the-secret' } }) as PaymentConnector;
    await expect(wrong.ping()).rejects.toMatchObject({ code: 'unauthorized', retryable: false, status: 401, message: 'paypal answered 401: Client Authentication failed' });
    const unknownPlan = connectToFake<'payment'>(fake, { settings: { plans: { premium: 'P-0000000000NOPLAN' } } }) as PaymentConnector;
    await expect(unknownPlan.recordSubscriptionInterest({ customerId: 'ada@example.com', ...interest }, { idempotencyKey: 'pp-2' })).rejects.toMatchObject({ code: 'not_found', retryable: false });
  });
});
