import crypto from 'node:crypto';
import { alnum, basic, bearer, hex, json, obj, type FakeRequest, type ProviderSpec, type Reply } from '../support/fake-core';

/**
 * PayPal REST as the connector uses it: OAuth 2.0 client credentials (`POST /v1/oauth2/token`,
 * https://developer.paypal.com/api/rest/authentication/), then the Subscriptions API v1
 * (https://developer.paypal.com/docs/api/subscriptions/v1/): create a subscription, list plans (the ping).
 * API calls need a Bearer token this fake issued.
 *
 * Identity of a write: `PayPal-Request-Id` (PayPal answers a repeated id with the subscription the first
 * request created, `deduplicated`). A create without one is a new subscription each time
 * (`subscription:<id>`). Checks: the plan exists and is active, `custom_id` is 1 to 127 printable ASCII
 * characters, the subscriber's email at most 254 characters.
 */

export interface PayPalFakeState {
  /** The seller's active plans: id -> name. */
  plans: Map<string, string>;
  subscriptions: Map<string, Record<string, unknown>>;
}

const issue = (status: number, name: string, message: string, issueCode?: string, field?: string) => ({
  name,
  message,
  debug_id: hex(6),
  ...(issueCode ? { details: [{ ...(field ? { field } : {}), issue: issueCode, description: message }] } : {}),
  links: [{ href: `https://developer.paypal.com/docs/api/v1/billing/subscriptions#error-${issueCode ?? name}`, rel: 'information_link', method: 'GET' }],
  status,
});

export function paypalSpec(): ProviderSpec {
  const clientId = `A${alnum(40)}`;
  const clientSecret = `E${alnum(40)}`;
  const planId = `P-${alnum(24).toUpperCase()}`;
  const state: PayPalFakeState = { plans: new Map([[planId, 'Premium planning']]), subscriptions: new Map() };
  const tokens = new Set<string>();
  const byRequestId = new Map<string, Reply>();

  const subscriptionKey = (req: FakeRequest) => (req.headers['paypal-request-id'] as string | undefined) ?? `subscription:${crypto.randomUUID()}`;

  function createSubscription(req: FakeRequest): Reply {
    const body = obj(req.body);
    const planIdSent = body.plan_id;
    if (typeof planIdSent !== 'string' || !state.plans.has(planIdSent)) return json(404, issue(404, 'RESOURCE_NOT_FOUND', 'The specified resource does not exist.', 'INVALID_RESOURCE_ID', '/plan_id'), 'rejected');
    const customId = body.custom_id;
    if (customId !== undefined && (typeof customId !== 'string' || !/^[\x20-\x7e]{1,127}$/.test(customId))) {
      return json(400, issue(400, 'INVALID_REQUEST', 'Request is not well-formed, syntactically incorrect, or violates schema.', 'INVALID_STRING_LENGTH', '/custom_id'), 'rejected');
    }
    const email = obj(body.subscriber).email_address;
    if (email !== undefined && (typeof email !== 'string' || email.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))) {
      return json(400, issue(400, 'INVALID_REQUEST', 'Request is not well-formed, syntactically incorrect, or violates schema.', 'INVALID_PARAMETER_SYNTAX', '/subscriber/email_address'), 'rejected');
    }
    const id = `I-${alnum(12).toUpperCase()}`;
    const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const links = [
      { href: `https://www.sandbox.paypal.com/webapps/billing/subscriptions?ba_token=BA-${alnum(17).toUpperCase()}`, rel: 'approve', method: 'GET' },
      { href: `https://api-m.sandbox.paypal.com/v1/billing/subscriptions/${id}`, rel: 'edit', method: 'PATCH' },
      { href: `https://api-m.sandbox.paypal.com/v1/billing/subscriptions/${id}`, rel: 'self', method: 'GET' },
    ];
    const subscription = { id, plan_id: planIdSent, status: 'APPROVAL_PENDING', status_update_time: at, create_time: at, custom_id: customId, subscriber: body.subscriber, quantity: '1', plan_overridden: false, links };
    state.subscriptions.set(id, subscription);
    const minimal = String(req.headers.prefer ?? 'return=minimal') === 'return=minimal';
    return json(201, minimal ? { id, status: 'APPROVAL_PENDING', status_update_time: at, links } : subscription, 'applied');
  }

  return {
    id: 'paypal',
    state,
    errorBody: (status) => issue(status, status === 404 ? 'RESOURCE_NOT_FOUND' : 'INTERNAL_SERVER_ERROR', status === 404 ? 'The specified resource does not exist.' : 'An internal server error occurred.'),
    integration: () => ({ provider: 'paypal', category: 'payment', auth: 'api-key', credentials: { clientId, clientSecret }, settings: { environment: 'sandbox', plans: { premium: planId } } }),
    baseUrl: (url) => url,
    authorize: (req) =>
      tokens.has(bearer(req) ?? '')
        ? undefined
        : json(401, issue(401, 'AUTHENTICATION_FAILURE', 'Authentication failed due to invalid authentication credentials or a missing Authorization header.'), 'unauthorized'),
    routes: [
      {
        method: 'POST',
        path: /^\/v1\/oauth2\/token$/,
        kind: 'read',
        authorize(req) {
          const [id, secret] = basic(req) ?? [];
          return id === clientId && secret === clientSecret ? undefined : json(401, { error: 'invalid_client', error_description: 'Client Authentication failed' }, 'unauthorized');
        },
        handle(req) {
          if (obj(req.body).grant_type !== 'client_credentials') return json(400, { error: 'unsupported_grant_type', error_description: 'Grant Type is NULL' }, 'rejected');
          const token = `A21AA${alnum(80)}`;
          tokens.add(token);
          return json(200, { scope: 'https://uri.paypal.com/services/subscriptions', access_token: token, token_type: 'Bearer', app_id: `APP-${alnum(17).toUpperCase()}`, expires_in: 32400, nonce: `${new Date().toISOString()}${alnum(12)}` }, 'read');
        },
      },
      {
        method: 'POST',
        path: /^\/v1\/billing\/subscriptions$/,
        kind: 'write',
        key: subscriptionKey,
        handle(req) {
          const requestId = req.headers['paypal-request-id'] as string | undefined;
          const prior = requestId !== undefined ? byRequestId.get(requestId) : undefined;
          if (prior) return { ...prior, outcome: 'deduplicated' };
          const reply = createSubscription(req);
          if (requestId !== undefined && reply.status < 300) byRequestId.set(requestId, reply);
          return reply;
        },
      },
      {
        method: 'GET',
        path: /^\/v1\/billing\/plans$/,
        kind: 'read',
        handle(req) {
          const size = Number(req.query.get('page_size') ?? 10);
          const plans = [...state.plans].slice(0, size).map(([id, name]) => ({ id, product_id: `PROD-${hex(8).toUpperCase()}`, name, status: 'ACTIVE', usage_type: 'LICENSED', create_time: new Date().toISOString() }));
          return json(200, { plans, links: [{ href: `https://api-m.sandbox.paypal.com/v1/billing/plans?page_size=${size}&page=1`, rel: 'self', method: 'GET' }] }, 'read');
        },
      },
    ],
  };
}
