import type { PaymentConnector } from '../../contracts';
import { ConnectorError } from '../../errors';
import type { ConnectorContext } from '../../registry-types';
import { customerKey, PAYPAL_BASE_URLS, requestId, subscriptionRequest, type PayPalToken } from './mapping';

export interface PayPalCredentials {
  clientId: string;
  clientSecret: string;
}

export interface PayPalSettings {
  environment: 'live' | 'sandbox';
  /** Our plan names ('premium') -> PayPal plan ids (P-…). */
  plans: Record<string, string>;
}

const PROVIDER = 'paypal';
/** A token is renewed this long before PayPal says it expires. */
const TOKEN_MARGIN_MS = 60_000;

/**
 * Plain fetch through the guarded client rather than @paypal/paypal-server-sdk: the SDK sends through
 * axios with its own agent (not our fetch), reaches only its two fixed environments (so no
 * deployment base URL for a sandbox relay or a loopback fake), and follows redirects.
 */
export function createPayPalClient(ctx: ConnectorContext<PayPalCredentials, PayPalSettings>): PaymentConnector {
  const base = ctx.http.baseUrl ?? PAYPAL_BASE_URLS[ctx.settings.environment];
  const oauth = ctx.http.client({ baseUrl: base });
  let token: { value: string; expiresAt: number } | undefined;

  async function accessToken(): Promise<string> {
    if (token && token.expiresAt > ctx.now()) return token.value;
    const basic = Buffer.from(`${ctx.credentials.clientId}:${ctx.credentials.clientSecret}`).toString('base64');
    const res = await oauth.request<PayPalToken>({ method: 'POST', path: 'v1/oauth2/token', headers: { authorization: `Basic ${basic}` }, form: { grant_type: 'client_credentials' } });
    const value = res.body?.access_token;
    if (!value) throw new ConnectorError({ code: 'unexpected_response', retryable: false, provider: PROVIDER, message: 'PayPal answered the token request without a token' });
    token = { value, expiresAt: ctx.now() + Math.max(0, (res.body.expires_in ?? 0) * 1000 - TOKEN_MARGIN_MS) };
    return value;
  }

  const api = ctx.http.client({
    baseUrl: base,
    headers: async () => ({ authorization: `Bearer ${await accessToken()}` }),
    // A token revoked or expired early: drop it, fetch a new one, try once more. (A 401 to the token
    // request itself means the app's credentials are wrong: nothing to retry.)
    onUnauthorized: async () => {
      const had = token !== undefined;
      token = undefined;
      return had;
    },
  });

  return {
    // PayPal keeps no customer record an API can write: the couple is identified by email.
    async upsertCustomer(input) {
      return { customerId: customerKey(input.person.email) };
    },

    async recordSubscriptionInterest(input, opts) {
      const planId = ctx.settings.plans[input.plan];
      if (!planId) {
        throw new ConnectorError({ code: 'misconfigured', retryable: false, provider: PROVIDER, message: `No PayPal plan is configured for the "${input.plan}" plan` });
      }
      // PayPal-Request-Id makes the create idempotent: a retry with the same id answers the subscription
      // the first request made (PayPal keeps the id for 72 hours).
      await api.request({
        method: 'POST',
        path: 'v1/billing/subscriptions',
        headers: { 'paypal-request-id': requestId(opts.idempotencyKey), prefer: 'return=minimal' },
        json: subscriptionRequest(planId, input.customerId, input),
      });
    },

    // A token, then one plan: the read this connector's writes need (the subscriptions scope).
    async ping() {
      await api.request({ method: 'GET', path: 'v1/billing/plans', query: { page_size: 1 } });
    },
  };
}
