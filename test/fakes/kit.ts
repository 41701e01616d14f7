import { alnum, json, lower, obj, type FakeRequest, type ProviderSpec, type Reply } from '../support/fake-core';

/**
 * Kit (formerly ConvertKit) API v4 (https://developers.kit.com/api-reference) as the connector calls it,
 * with `X-Kit-Api-Key`: create or update a subscriber by email, find-or-create a tag by name, tag and
 * untag a subscriber by email, add a subscriber to a sequence by email, read the account (the ping).
 *
 * Identity of a write: subscriber `subscriber:<email>` (an upsert: 201 the first time, 200 after,
 * `reapplied`), tag `tag:<name>`, tagging `tagging:<tagId>:<email>`, sequence `sequence:<id>:<email>`:
 * Kit keeps a subscriber in a sequence once and answers a repeat 200 (`deduplicated`). Emails match
 * without regard to case. Custom fields must exist in the account (`resume_url` here).
 */

export interface KitFakeState {
  subscribers: Map<string, { id: number; email_address: string; first_name: string | null; state: string; fields: Record<string, string | null>; created_at: string }>;
  tags: Map<string, { id: number; name: string; subscribers: Set<string> }>;
  /** Sequence id -> emails in it. */
  sequences: Map<number, Set<string>>;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const errors = (...messages: string[]) => ({ errors: messages });

export function kitSpec(): ProviderSpec {
  const apiKey = `kit_${alnum(32)}`;
  const fieldKeys = new Set(['resume_url']);
  const state: KitFakeState = { subscribers: new Map(), tags: new Map(), sequences: new Map([[4101, new Set()], [4102, new Set()]]) };
  let nextId = 1000;
  const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const emailOf = (req: FakeRequest) => lower(obj(req.body).email_address);
  const tagById = (id: string) => [...state.tags.values()].find((t) => String(t.id) === id);
  const subscriberView = (email: string) => {
    const s = state.subscribers.get(email)!;
    return { id: s.id, first_name: s.first_name, email_address: s.email_address, state: s.state, created_at: s.created_at, fields: s.fields };
  };
  /** The subscriber an email names, or Kit's 404. */
  const existing = (req: FakeRequest): Reply | string => {
    const email = emailOf(req);
    return state.subscribers.has(email) ? email : json(404, errors('Not Found'), 'not_found');
  };

  return {
    id: 'kit',
    state,
    errorBody: (status) => (status === 429 ? 'Retry later' : errors(status === 404 ? 'Not Found' : 'Internal server error')),
    integration: () => ({
      provider: 'kit',
      category: 'email',
      auth: 'api-key',
      credentials: { apiKey },
      settings: { sequences: { welcome: 4101, 're-engagement': 4102 }, fieldKeys: { resumeUrl: 'resume_url' } },
    }),
    baseUrl: (url) => `${url}/v4`,
    authorize: (req) => (req.headers['x-kit-api-key'] === apiKey ? undefined : json(401, errors('The access token is invalid'), 'unauthorized')),
    routes: [
      {
        method: 'POST',
        path: /^\/v4\/subscribers$/,
        kind: 'write',
        key: (req) => `subscriber:${emailOf(req)}`,
        handle(req) {
          const body = obj(req.body);
          const email = emailOf(req);
          if (!EMAIL.test(email) || String(body.email_address).length > 254) return json(422, errors('Email address is invalid'), 'rejected');
          const fields = obj(body.fields);
          const unknown = Object.keys(fields).filter((k) => !fieldKeys.has(k));
          if (unknown.length > 0) return json(422, errors(`Custom field ${unknown[0]} does not exist`), 'rejected');
          const prior = state.subscribers.get(email);
          state.subscribers.set(email, {
            id: prior?.id ?? nextId++,
            email_address: email,
            first_name: typeof body.first_name === 'string' ? body.first_name : (prior?.first_name ?? null),
            state: typeof body.state === 'string' ? body.state : (prior?.state ?? 'active'),
            fields: { ...prior?.fields, ...(fields as Record<string, string | null>) },
            created_at: prior?.created_at ?? now(),
          });
          return json(prior ? 200 : 201, { subscriber: subscriberView(email) }, prior ? 'reapplied' : 'applied');
        },
      },
      {
        method: 'POST',
        path: /^\/v4\/tags$/,
        kind: 'write',
        key: (req) => `tag:${lower(obj(req.body).name)}`,
        handle(req) {
          const name = obj(req.body).name;
          if (typeof name !== 'string' || name.trim() === '' || name.length > 255) return json(422, errors('Name is invalid'), 'rejected');
          const prior = state.tags.get(lower(name));
          const tag = prior ?? { id: nextId++, name, subscribers: new Set<string>() };
          state.tags.set(lower(name), tag);
          return json(prior ? 200 : 201, { tag: { id: tag.id, name: tag.name, created_at: now() } }, prior ? 'reapplied' : 'applied');
        },
      },
      {
        method: 'POST',
        path: /^\/v4\/tags\/(\d+)\/subscribers$/,
        kind: 'write',
        key: (req) => `tagging:${req.params[0]}:${emailOf(req)}`,
        handle(req) {
          const tag = tagById(req.params[0]!);
          const email = existing(req);
          if (!tag) return json(404, errors('Not Found'), 'not_found');
          if (typeof email !== 'string') return email;
          const had = tag.subscribers.has(email);
          tag.subscribers.add(email);
          return json(had ? 200 : 201, { subscriber: { ...subscriberView(email), tagged_at: now() } }, had ? 'reapplied' : 'applied');
        },
      },
      {
        method: 'DELETE',
        path: /^\/v4\/tags\/(\d+)\/subscribers$/,
        kind: 'write',
        key: (req) => `tagging:${req.params[0]}:${emailOf(req)}`,
        handle(req) {
          const tag = tagById(req.params[0]!);
          const email = emailOf(req);
          if (!tag || !tag.subscribers.delete(email)) return json(404, errors('Not Found'), 'not_found');
          return { status: 204, outcome: 'reapplied' };
        },
      },
      {
        method: 'POST',
        path: /^\/v4\/sequences\/(\d+)\/subscribers$/,
        kind: 'write',
        key: (req) => `sequence:${req.params[0]}:${emailOf(req)}`,
        handle(req) {
          const sequence = state.sequences.get(Number(req.params[0]));
          const email = existing(req);
          if (!sequence) return json(404, errors('Not Found'), 'not_found');
          if (typeof email !== 'string') return email;
          if (sequence.has(email)) return json(200, { subscriber: { ...subscriberView(email), added_at: now() } }, 'deduplicated');
          sequence.add(email);
          return json(201, { subscriber: { ...subscriberView(email), added_at: now() } }, 'applied');
        },
      },
      {
        method: 'GET',
        path: /^\/v4\/account$/,
        kind: 'read',
        handle: () =>
          json(200, { user: { email: 'planner@example.com' }, account: { id: 5, name: 'Fake wedding studio', plan_type: 'creator', primary_email_address: 'planner@example.com', created_at: '2023-02-17T11:43:55Z' } }, 'read'),
      },
    ],
  };
}
