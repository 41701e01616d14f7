import { alnum, bearer, hex, json, obj, type FakeRequest, type ProviderSpec, type Reply } from '../support/fake-core';

/**
 * Stripe: customers, Idempotency-Key replay with a parameter check.
 * Served by the fake server core (test/support/fake-core.ts); started with the others by
 * test/support/fake-providers.ts.
 */
export function stripeSpec(): ProviderSpec {
  const secretKey = `sk_test_fake${hex(12)}`;
  const customers = new Map<string, Record<string, unknown>>();
  /** Newest first, as Stripe lists: a sequence, since many customers share a `created` second. */
  const order = new Map<string, number>();
  let sequence = 0;
  const events: Record<string, unknown>[] = [];
  const emit = (type: 'customer.created' | 'customer.updated', customer: Record<string, unknown>) => {
    events.unshift({ id: `evt_${alnum(24)}`, object: 'event', type, created: Math.floor(Date.now() / 1000), data: { object: { ...customer } } });
  };
  /** A page of a list newest first, after `starting_after`, up to `limit`. */
  const pageOf = <T extends Record<string, unknown>>(all: T[], req: FakeRequest, url: string) => {
    const limit = Math.min(Math.max(Number(req.query.get('limit') ?? 10) || 10, 1), 100);
    const after = req.query.get('starting_after');
    const start = after ? all.findIndex((x) => x.id === after) + 1 : 0;
    const data = all.slice(start, start + limit);
    return { object: 'list', url, has_more: start + limit < all.length, data };
  };
  const keys = new Map<string, { fingerprint: string; status: number; body: unknown }>();
  const error = (type: string, message: string, extra: Record<string, unknown> = {}) => ({ error: { type, message, ...extra } });
  const idempotent = (req: FakeRequest, key: string | undefined, write: () => Reply): Reply => {
    const fingerprint = `${req.method} ${req.path} ${req.raw}`;
    if (key !== undefined) {
      const prior = keys.get(key);
      if (prior && prior.fingerprint !== fingerprint) {
        return json(400, error('idempotency_error', `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`), 'rejected');
      }
      if (prior) return json(prior.status, prior.body, 'deduplicated', { 'idempotent-replayed': 'true', 'idempotency-key': key });
    }
    const reply = write();
    if (key !== undefined && reply.status < 500) keys.set(key, { fingerprint, status: reply.status, body: reply.body });
    return { ...reply, headers: { ...reply.headers, ...(key !== undefined ? { 'idempotency-key': key } : {}) } };
  };
  const merge = (metadata: unknown, into: Record<string, unknown>) => {
    const out = { ...into };
    for (const [k, v] of Object.entries(obj(metadata))) {
      if (v === '') delete out[k];
      else out[k] = v;
    }
    return out;
  };
  return {
    id: 'stripe',
    stores: { customers },
    touch: (_name, id) => {
      const c = customers.get(id);
      if (!c) return;
      if (!order.has(id)) order.set(id, ++sequence);
      emit('customer.updated', c);
    },
    errorBody: (status) => error('api_error', status === 404 ? 'Unrecognized request URL.' : 'Stripe is temporarily unavailable.'),
    integration: () => ({ provider: 'stripe', category: 'payment', auth: 'api-key', credentials: { secretKey }, settings: {} }),
    baseUrl: (url) => url,
    authorize: (req) =>
      bearer(req) === secretKey ? undefined : json(401, error('invalid_request_error', `Invalid API Key provided: ${String(bearer(req) ?? '').slice(0, 8)}****`), 'unauthorized'),
    routes: [
      {
        method: 'GET',
        path: /^\/v1\/customers$/,
        kind: 'read',
        handle(req) {
          const email = req.query.get('email');
          const data = [...customers.values()].filter((c) => email === null || c.email === email).sort((a, b) => order.get(b.id as string)! - order.get(a.id as string)!);
          return json(200, pageOf(data, req, '/v1/customers'), 'read');
        },
      },
      {
        method: 'POST',
        path: /^\/v1\/customers$/,
        kind: 'write',
        key: (req) => req.headers['idempotency-key'] as string | undefined,
        handle: (req, key) =>
          idempotent(req, key, () => {
            const body = obj(req.body);
            const customer = {
              id: `cus_${alnum(14)}`,
              object: 'customer',
              address: null,
              balance: 0,
              created: Math.floor(Date.now() / 1000),
              currency: null,
              default_source: null,
              delinquent: false,
              description: null,
              email: body.email ?? null,
              invoice_prefix: alnum(8).toUpperCase(),
              invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
              livemode: false,
              metadata: merge(body.metadata, {}),
              name: body.name ?? null,
              phone: body.phone ?? null,
              preferred_locales: [],
              shipping: null,
              tax_exempt: 'none',
              test_clock: null,
            };
            customers.set(customer.id, customer);
            order.set(customer.id, ++sequence);
            emit('customer.created', customer);
            return json(200, customer, 'applied');
          }),
      },
      {
        method: 'POST',
        path: /^\/v1\/customers\/([^/]+)$/,
        kind: 'write',
        key: (req) => req.headers['idempotency-key'] as string | undefined,
        handle: (req, key) =>
          idempotent(req, key, () => {
            const existing = customers.get(req.params[0]!);
            if (!existing) return json(404, error('invalid_request_error', `No such customer: '${req.params[0]}'`, { code: 'resource_missing', param: 'id' }), 'not_found');
            const body = obj(req.body);
            const updated = { ...existing, ...body, metadata: merge(body.metadata, obj(existing.metadata)) };
            customers.set(existing.id as string, updated);
            emit('customer.updated', updated);
            return json(200, updated, 'applied');
          }),
      },
      {
        method: 'GET',
        path: /^\/v1\/events$/,
        kind: 'read',
        handle(req) {
          const types = [...req.query.entries()].filter(([k]) => /^types\[\d*\]$/.test(k)).map(([, v]) => v);
          const after = Number(req.query.get('created[gt]') ?? 0);
          const all = events.filter((e) => (types.length === 0 || types.includes(String(e.type))) && Number(e.created) > after);
          return json(200, pageOf(all, req, '/v1/events'), 'read');
        },
      },
      {
        method: 'GET',
        path: /^\/v1\/customers\/([^/]+)$/,
        kind: 'read',
        handle(req) {
          const c = customers.get(req.params[0]!);
          return c ? json(200, c, 'read') : json(404, error('invalid_request_error', `No such customer: '${req.params[0]}'`, { code: 'resource_missing', param: 'id' }), 'not_found');
        },
      },
    ],
  };
}
