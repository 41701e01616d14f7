import { alnum, bearer, json, obj, type FakeRequest, type ProviderSpec, type Reply } from '../support/fake-core';

/**
 * Square's Customers API and Customer Custom Attributes API (https://developer.squareup.com/reference/square/customers-api,
 * .../customer-custom-attributes-api), as the connector calls them through the official SDK: search by
 * email, create, list (the ping), create a custom attribute definition, upsert a customer's attribute.
 * Bearer access token; every write carries an `idempotency_key` in its body.
 *
 * Identity of a write: its `idempotency_key`. Square answers a repeated key with the first successful
 * answer (`deduplicated`) and a key reused with other parameters with 400 IDEMPOTENCY_KEY_REUSED. A definition's
 * identity is its `key` (`definition:<key>`): one per seller, a second create is 409 (`deduplicated`).
 * Field checks follow CreateCustomer's documented limits (names 300, email 254, phone 9 to 16 digits
 * with an optional +).
 */

export interface SquareFakeState {
  customers: Map<string, Record<string, unknown>>;
  /** Custom attribute definitions by key. */
  definitions: Map<string, Record<string, unknown>>;
  /** Attribute values: `<customerId>:<key>` -> value. */
  attributes: Map<string, unknown>;
}

const error = (category: string, code: string, detail: string, field?: string) => ({ errors: [{ category, code, detail, ...(field ? { field } : {}) }] });
const invalid = (code: string, detail: string, field: string) => json(400, error('INVALID_REQUEST_ERROR', code, detail, field), 'rejected');
const notFound = (detail: string) => json(404, error('INVALID_REQUEST_ERROR', 'NOT_FOUND', detail), 'not_found');
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** CreateCustomer's field checks: what Square refuses with 400. */
function customerProblem(body: Record<string, unknown>): Reply | undefined {
  const text = (f: string) => (typeof body[f] === 'string' ? (body[f] as string) : undefined);
  if (!['given_name', 'family_name', 'company_name', 'email_address', 'phone_number'].some((f) => text(f))) {
    return invalid('MISSING_REQUIRED_PARAMETER', 'At least one of given_name, family_name, company_name, email_address or phone_number is required', 'given_name');
  }
  for (const [field, max] of [['given_name', 300], ['family_name', 300], ['email_address', 254], ['reference_id', 255]] as const) {
    if ((text(field)?.length ?? 0) > max) return invalid('VALUE_TOO_LONG', `Field must not be greater than ${max} length`, field);
  }
  if (text('email_address') !== undefined && !EMAIL.test(text('email_address')!)) return invalid('INVALID_EMAIL_ADDRESS', 'Expected email_address to be a valid email address', 'email_address');
  if (text('phone_number') !== undefined && !/^\+?\d{9,16}$/.test(text('phone_number')!)) return invalid('INVALID_PHONE_NUMBER', 'Expected phone_number to be a valid phone number', 'phone_number');
  return undefined;
}

export function squareSpec(): ProviderSpec {
  const accessToken = `EAAAl${alnum(60)}`;
  const state: SquareFakeState = { customers: new Map(), definitions: new Map(), attributes: new Map() };
  const replies = new Map<string, { fingerprint: string; reply: Reply }>();

  /** Square's idempotency: the first answer again for a repeated key, 400 for the key with other parameters. */
  const idempotent = (req: FakeRequest, write: () => Reply): Reply => {
    const key = obj(req.body).idempotency_key;
    if (typeof key !== 'string' || key.length === 0) return invalid('MISSING_REQUIRED_PARAMETER', 'Missing required parameter', 'idempotency_key');
    if (key.length > 45) return invalid('VALUE_TOO_LONG', 'Field must not be greater than 45 length', 'idempotency_key');
    const { idempotency_key: _key, ...rest } = obj(req.body);
    const fingerprint = `${req.method} ${req.path} ${JSON.stringify(rest)}`;
    const prior = replies.get(key);
    if (prior && prior.fingerprint !== fingerprint) return invalid('IDEMPOTENCY_KEY_REUSED', 'The idempotency key can only be retried with the same request data.', 'idempotency_key');
    if (prior) return { ...prior.reply, outcome: 'deduplicated' };
    const reply = write();
    // Only a success is kept for the key: a refused request (a definition not made yet) may be sent again as it was.
    if (reply.status < 300) replies.set(key, { fingerprint, reply });
    return reply;
  };
  const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

  return {
    id: 'square',
    state,
    errorBody: (status) => error('API_ERROR', status === 404 ? 'NOT_FOUND' : 'SERVICE_UNAVAILABLE', status === 404 ? 'Resource not found.' : 'Service unavailable.'),
    integration: () => ({ provider: 'square', category: 'payment', auth: 'api-key', credentials: { accessToken }, settings: { environment: 'sandbox' } }),
    baseUrl: (url) => url,
    authorize: (req) => (bearer(req) === accessToken ? undefined : json(401, error('AUTHENTICATION_ERROR', 'UNAUTHORIZED', 'This request could not be authorized.'), 'unauthorized')),
    routes: [
      {
        method: 'POST',
        path: /^\/v2\/customers\/search$/,
        kind: 'read',
        handle(req) {
          const exact = obj(obj(obj(obj(req.body).query).filter).email_address).exact;
          const limit = Number(obj(req.body).limit ?? 100);
          const found = [...state.customers.values()].filter((c) => exact === undefined || c.email_address === exact).slice(0, limit);
          // Square answers `{}` when nothing matches.
          return json(200, found.length > 0 ? { customers: found } : {}, 'read');
        },
      },
      {
        method: 'POST',
        path: /^\/v2\/customers$/,
        kind: 'write',
        key: (req) => obj(req.body).idempotency_key as string | undefined,
        handle: (req) =>
          idempotent(req, () => {
            const { idempotency_key: _key, ...fields } = obj(req.body);
            const problem = customerProblem(fields);
            if (problem) return problem;
            const at = now();
            const customer = { id: alnum(26).toUpperCase(), created_at: at, updated_at: at, ...fields, preferences: { email_unsubscribed: false }, creation_source: 'THIRD_PARTY', version: 0 };
            state.customers.set(customer.id, customer);
            return json(200, { customer }, 'applied');
          }),
      },
      {
        method: 'GET',
        path: /^\/v2\/customers$/,
        kind: 'read',
        handle: (req) => json(200, { customers: [...state.customers.values()].slice(0, Number(req.query.get('limit') ?? 100)) }, 'read'),
      },
      {
        method: 'POST',
        path: /^\/v2\/customers\/custom-attribute-definitions$/,
        kind: 'write',
        key: (req) => `definition:${String(obj(obj(req.body).custom_attribute_definition).key)}`,
        handle: (req) =>
          idempotent(req, () => {
            const definition = obj(obj(req.body).custom_attribute_definition);
            if (typeof definition.key !== 'string' || !/^[a-zA-Z0-9._-]{1,60}$/.test(definition.key)) return invalid('INVALID_VALUE', 'Invalid key', 'custom_attribute_definition.key');
            if (state.definitions.has(definition.key)) {
              return json(409, error('INVALID_REQUEST_ERROR', 'CONFLICT', `A custom attribute definition with key ${definition.key} already exists`), 'deduplicated');
            }
            const at = now();
            const created = { ...definition, version: 1, created_at: at, updated_at: at };
            state.definitions.set(definition.key, created);
            return json(200, { custom_attribute_definition: created }, 'applied');
          }),
      },
      {
        method: 'POST',
        path: /^\/v2\/customers\/([^/]+)\/custom-attributes\/([^/]+)$/,
        kind: 'write',
        key: (req) => obj(req.body).idempotency_key as string | undefined,
        handle: (req) =>
          idempotent(req, () => {
            const [customerId, key] = req.params as [string, string];
            if (!state.customers.has(customerId)) return notFound(`Customer with ID \`${customerId}\` not found.`);
            const definition = state.definitions.get(key);
            if (!definition) return notFound(`Custom attribute definition with key \`${key}\` not found.`);
            const value = obj(obj(req.body).custom_attribute).value;
            if (typeof value !== 'string' || value.length > 1000) return invalid('INVALID_VALUE', 'Expected a string of at most 1000 characters', 'custom_attribute.value');
            const existed = state.attributes.has(`${customerId}:${key}`);
            state.attributes.set(`${customerId}:${key}`, value);
            const at = now();
            return json(200, { custom_attribute: { key, value, version: 1, visibility: definition.visibility, created_at: at, updated_at: at } }, existed ? 'reapplied' : 'applied');
          }),
      },
    ],
  };
}
