import { SquareClient, SquareError, SquareTimeoutError } from 'square';
import type { PaymentConnector } from '../../contracts';
import { classify, ConnectorError } from '../../errors';
import type { ConnectorContext } from '../../registry-types';
import { customerCreate, INTEREST_ATTRIBUTE_KEY, interestValue, pickCustomer, SQUARE_BASE_URLS, squareEmail, squareIdempotencyKey, STRING_SCHEMA } from './mapping';

export interface SquareCredentials {
  accessToken: string;
}

export interface SquareSettings {
  environment: 'production' | 'sandbox';
}

const PROVIDER = 'square';

function headerRecord(headers: unknown): Record<string, string> {
  if (headers && typeof (headers as Headers).forEach === 'function') {
    const out: Record<string, string> = {};
    (headers as Headers).forEach((v, k) => (out[k] = v));
    return out;
  }
  return {};
}

/**
 * What the SDK throws, as a ConnectorError. A `SquareError` with a status carries Square's body
 * (`errors[].detail`) and the response (Retry-After); one without a status wraps what our guarded fetch
 * raised (refused destination, socket error) as its cause, which `classify` finds.
 */
export function squareFailure(error: unknown): ConnectorError {
  if (error instanceof SquareTimeoutError) return new ConnectorError({ code: 'timeout', retryable: true, provider: PROVIDER, message: 'Square did not answer in time', cause: error });
  if (error instanceof SquareError && error.statusCode !== undefined) {
    const first = error.errors?.[0];
    const message = first ? `${first.code ?? ''}${first.detail ? `: ${first.detail}` : ''}`.slice(0, 200) : undefined;
    return classify(PROVIDER, { kind: 'http', status: error.statusCode, headers: headerRecord(error.rawResponse?.headers), ...(message ? { message } : {}) });
  }
  return classify(PROVIDER, { kind: 'error', error });
}

/**
 * Square's official SDK with the guarded layer's fetch (its `fetch` option): every request is bound to
 * Square's hosts, the deployment's address rules and a capped body, with no redirects. The SDK's own
 * retries are off (Temporal retries), and its timeout matches ours.
 */
export function createSquareClient(ctx: ConnectorContext<SquareCredentials, SquareSettings>): PaymentConnector {
  const square = new SquareClient({
    token: ctx.credentials.accessToken,
    baseUrl: ctx.http.baseUrl ?? SQUARE_BASE_URLS[ctx.settings.environment],
    fetch: ((input: string | URL | Request, init?: RequestInit) => ctx.http.fetch(input, init)) as typeof fetch,
    timeoutInSeconds: Math.max(1, Math.ceil(ctx.http.timeoutMs / 1000)),
    maxRetries: 0,
  });

  async function call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw squareFailure(err);
    }
  }

  async function setInterest(customerId: string, value: string, key: string): Promise<void> {
    await call(() =>
      square.customers.customAttributes.upsert({
        customerId,
        key: INTEREST_ATTRIBUTE_KEY,
        customAttribute: { value },
        idempotencyKey: squareIdempotencyKey(key, 'attribute.upsert'),
      }),
    );
  }

  return {
    async upsertCustomer(input, opts) {
      const email = squareEmail(input.person.email);
      const found = await call(() => square.customers.search({ limit: BigInt(10), query: { filter: { emailAddress: { exact: email } } } }));
      const existing = pickCustomer(found.customers ?? [], input.person);
      // The planner's record wins: an existing customer is linked, not overwritten.
      if (existing?.id) return { customerId: existing.id };
      const created = await call(() => square.customers.create(customerCreate(input.person, opts.idempotencyKey)));
      const id = created.customer?.id;
      if (!id) throw new ConnectorError({ code: 'unexpected_response', retryable: false, provider: PROVIDER, message: 'Square answered a customer without an id' });
      return { customerId: id };
    },

    async recordSubscriptionInterest(input, opts) {
      const value = interestValue(input);
      try {
        await setInterest(input.customerId, value, opts.idempotencyKey);
        return;
      } catch (err) {
        // The seller's account has no definition for our attribute yet: create it once, then set the value.
        if (!(err instanceof ConnectorError && err.status === 404)) throw err;
      }
      try {
        await call(() =>
          square.customers.customAttributeDefinitions.create({
            customAttributeDefinition: {
              key: INTEREST_ATTRIBUTE_KEY,
              name: 'Tourhub plan interest',
              description: 'The plan a couple showed interest in when they finished a Tourhub tour',
              schema: { $ref: STRING_SCHEMA },
              visibility: 'VISIBILITY_READ_WRITE_VALUES',
            },
            idempotencyKey: squareIdempotencyKey(opts.idempotencyKey, 'attribute.definition'),
          }),
        );
      } catch (err) {
        // Someone made it in the meantime.
        if (!(err instanceof ConnectorError && err.status === 409)) throw err;
      }
      await setInterest(input.customerId, value, opts.idempotencyKey);
    },

    // One customer: the resource this connector writes, so a token without CUSTOMERS_READ fails here.
    async ping() {
      await call(() => square.customers.list({ limit: 1 }));
    },
  };
}
