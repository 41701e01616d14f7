import Stripe from 'stripe';
import type { PaymentConnector, RemoteRecord } from '../../contracts';
import { classify, ConnectorError } from '../../errors';
import type { ConnectorContext } from '../../registry-types';
import {
  customerCreateParams,
  customerUpdateParams,
  EVENTS_RETAINED_MS,
  isEmptyUpdate,
  pickCustomer,
  sdkAddress,
  stripeCustomerRecord,
  stripeEmail,
  stripeIdempotencyKey,
  subscriptionInterestMetadata,
  toStripeMetadata,
} from './mapping';

export interface StripeCredentials {
  secretKey: string;
}

/** Nothing to set: every account is on https://api.stripe.com (test mode by key, not by host). */
export type StripeSettings = Record<string, never>;

export const STRIPE_HOSTS = ['api.stripe.com'];
const STRIPE_BASE_URL = 'https://api.stripe.com';
const PROVIDER = 'stripe';

/**
 * Maps what the SDK throws to a ConnectorError. `StripeError` carries `statusCode` and the response
 * `headers` (Retry-After included), which `classify` reads as they are. `StripeConnectionError` does not:
 * the SDK keeps the socket error (ECONNRESET, ETIMEDOUT) in `detail`, where `classify` does not look,
 * so it is handed over as `cause`.
 */
export function stripeFailure(error: unknown): ConnectorError {
  if (error instanceof Stripe.errors.StripeConnectionError) {
    const detail = (error as { detail?: unknown }).detail;
    return classify(PROVIDER, { kind: 'error', error: { name: 'StripeConnectionError', message: error.message, cause: detail } });
  }
  return classify(PROVIDER, { kind: 'error', error });
}

/**
 * The SDK's HTTP client, with one repair: an error status whose body is not JSON (a proxy's 502 page)
 * would become "Invalid JSON received" with no status, which nobody could retry. It is turned into a
 * Stripe-shaped error body, so the SDK raises an error that carries the status and headers.
 */
function statusPreservingHttpClient(inner: Stripe.HttpClient): Stripe.HttpClient {
  return {
    getClientName: () => inner.getClientName(),
    async makeRequest(...args) {
      const res = await inner.makeRequest(...args);
      const status = res.getStatusCode();
      if (status < 400) return res;
      return {
        getStatusCode: () => res.getStatusCode(),
        getHeaders: () => res.getHeaders(),
        getRawResponse: () => res.getRawResponse(),
        toStream: (done: () => void) => res.toStream(done),
        ...(res.dispose ? { dispose: () => res.dispose?.() } : {}),
        async toJSON() {
          try {
            return await res.toJSON();
          } catch (err) {
            if (!(err instanceof SyntaxError)) throw err;
            return { error: { type: 'api_error', message: `Stripe answered ${status} without a JSON body` } };
          }
        },
      };
    },
  };
}

/**
 * The SDK's `timeout` is an idle-socket timeout: a provider that trickles bytes, or the SDK's own
 * pause before re-trying a closed connection, can outlast it. This bounds the whole call.
 */
function withDeadline<T>(ms: number, run: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(Object.assign(new Error(`Stripe did not answer within ${ms} ms`), { name: 'TimeoutError' })), ms);
    run().then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * The SDK on node:http, whose requests never follow a redirect, with the guarded layer's agent: its
 * sockets connect only to addresses the deployment allows. The host is fixed (api.stripe.com, or the
 * deployment's base URL) and checked before every call, so the key cannot go anywhere else.
 */
export function createStripeClient(ctx: ConnectorContext<StripeCredentials, StripeSettings>): PaymentConnector {
  const target = new URL(ctx.http.baseUrl ?? STRIPE_BASE_URL);
  const address = sdkAddress(ctx.http.baseUrl);
  const stripe = new Stripe(ctx.credentials.secretKey, {
    // Temporal owns retries. (The SDK still retries a connection closed before any answer once;
    // every write carries an Idempotency-Key, so that retry cannot duplicate anything.)
    maxNetworkRetries: 0,
    timeout: ctx.http.timeoutMs,
    telemetry: false,
    httpClient: statusPreservingHttpClient(Stripe.createNodeHttpClient(ctx.http.agent(target.protocol === 'http:' ? 'http:' : 'https:'))),
    appInfo: { name: 'tourhub' },
    ...(address ? { host: address.host, port: address.port, protocol: address.protocol } : {}),
  });

  async function call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      await ctx.http.check(target);
      return await withDeadline(ctx.http.timeoutMs, fn);
    } catch (err) {
      throw stripeFailure(err);
    }
  }

  return {
    async upsertCustomer(input, opts) {
      const extra = toStripeMetadata(input.metadata ?? {});
      // List, not Search: the email filter on GET /v1/customers is read-after-write consistent, while
      // Search can lag by minutes, and tour_started/tour_completed for one couple can arrive seconds apart.
      const found = await call(() => stripe.customers.list({ email: stripeEmail(input.person.email), limit: 10 }));
      const existing = pickCustomer(found.data, input.person);
      if (!existing) {
        const created = await call(() =>
          stripe.customers.create(customerCreateParams(input.person, extra), {
            idempotencyKey: stripeIdempotencyKey(opts.idempotencyKey, 'customer.create'),
          }),
        );
        return { customerId: created.id };
      }
      const update = customerUpdateParams(existing, input.person, extra);
      if (!isEmptyUpdate(update)) {
        await call(() =>
          stripe.customers.update(existing.id, update, {
            idempotencyKey: stripeIdempotencyKey(opts.idempotencyKey, 'customer.update'),
          }),
        );
      }
      return { customerId: existing.id };
    },

    async recordSubscriptionInterest(input, opts) {
      await call(() =>
        stripe.customers.update(
          input.customerId,
          { metadata: subscriptionInterestMetadata(input) },
          { idempotencyKey: stripeIdempotencyKey(opts.idempotencyKey, 'subscription-interest') },
        ),
      );
    },

    async ping() {
      // Reads the resource this connector writes, so a restricted key without Customers access fails here.
      await call(() => stripe.customers.list({ limit: 1 }));
    },

    /**
     * Customers have no "updated since" filter, so a full pass lists every customer (by id, with
     * `starting_after`) and an incremental one reads the `customer.created` and `customer.updated`
     * events since the cursor (newest first: the newest snapshot of a customer is the one kept). Events
     * are kept 30 days: an older cursor needs a full pass. The next cursor is when this pass started.
     */
    async listChanges(query) {
      const limit = Math.min(Math.max(query.pageSize, 1), 100);
      const done = (records: RemoteRecord[], hasMore: boolean, last: string | undefined) =>
        hasMore && last ? { records, nextPage: last } : { records, cursor: new Date(query.startedAt).toISOString() };
      if (query.cursor === undefined) {
        const page = await call(() => stripe.customers.list({ limit, ...(query.page ? { starting_after: query.page } : {}) }));
        const records = page.data.map((c) => stripeCustomerRecord(c, null)).filter((r) => r !== undefined);
        return done(records, page.has_more, page.data.at(-1)?.id);
      }
      const since = Date.parse(query.cursor);
      if (Number.isNaN(since) || query.startedAt - since >= EVENTS_RETAINED_MS) {
        throw new ConnectorError({ code: 'cursor_expired', retryable: false, provider: PROVIDER, message: 'Stripe keeps events for 30 days: a full pass is needed' });
      }
      const page = await call(() =>
        stripe.events.list({
          types: ['customer.created', 'customer.updated'],
          created: { gt: Math.floor(since / 1000) },
          limit,
          ...(query.page ? { starting_after: query.page } : {}),
        }),
      );
      const records = page.data
        .map((e) => stripeCustomerRecord(e.data.object as Stripe.Customer, new Date(e.created * 1000).toISOString()))
        .filter((r) => r !== undefined);
      return done(records, page.has_more, page.data.at(-1)?.id);
    },
  };
}
