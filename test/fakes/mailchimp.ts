import crypto from 'node:crypto';
import { basic, hex, json, lower, md5, obj, type CallOutcome, type FakeOptions, type ProviderSpec } from '../support/fake-core';

/**
 * Mailchimp Marketing API 3.0: members by subscriber hash, tags, Customer Journey triggers.
 * Served by the fake server core (test/support/fake-core.ts); started with the others by
 * test/support/fake-providers.ts.
 */
export function mailchimpSpec(opts: FakeOptions): ProviderSpec {
  const apiKey = `${hex(16)}-us6`;
  const listId = 'a1b2c3d4e5';
  const sequences = { welcome: { journeyId: 101, stepId: 201 }, 're-engagement': { journeyId: 102, stepId: 202 } };
  const members = new Map<string, Record<string, unknown>>();
  const entered = new Set<string>();
  const admitsOnce = opts.journeyAdmitsOnce ?? true;
  const problem = (status: number, title: string, detail: string) => ({
    type: 'https://mailchimp.com/developer/marketing/docs/errors/',
    title,
    status,
    detail,
    instance: crypto.randomUUID(),
  });
  const reply = (status: number, body: unknown, outcome: CallOutcome) => json(status, body, outcome, { 'content-type': status >= 400 ? 'application/problem+json; charset=utf-8' : 'application/json; charset=utf-8' });
  const L = '^/3.0/lists/([^/]+)';
  return {
    id: 'mailchimp',
    stores: { members },
    touch: (_name, id) => {
      const m = members.get(id);
      if (m) m.last_changed = new Date().toISOString();
    },
    errorBody: (status) => problem(status, status === 404 ? 'Resource Not Found' : 'Service Unavailable', status === 404 ? 'The requested resource could not be found.' : 'Please try again later.'),
    integration: () => ({
      provider: 'mailchimp',
      category: 'email',
      auth: 'api-key',
      credentials: { apiKey },
      settings: { listId, sequences },
    }),
    baseUrl: (url) => `${url}/3.0`,
    authorize: (req) => (basic(req)?.[1] === apiKey ? undefined : reply(401, problem(401, 'API Key Invalid', 'Your API key may be invalid, or you have attempted to access the wrong datacenter.'), 'unauthorized')),
    routes: [
      {
        method: 'PUT',
        path: new RegExp(`${L}/members/([0-9a-f]{32})$`),
        kind: 'write',
        key: (req) => `member:${req.params[0]}:${req.params[1]}`,
        handle(req) {
          const [list, hash] = req.params as [string, string];
          if (list !== listId) return reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), 'not_found');
          const body = obj(req.body);
          if (md5(lower(body.email_address)) !== hash) return reply(400, problem(400, 'Invalid Resource', 'The subscriber hash does not match the email address.'), 'rejected');
          const existing = members.get(hash);
          const now = new Date().toISOString();
          const member = {
            id: hash,
            email_address: String(body.email_address).trim(),
            unique_email_id: existing?.unique_email_id ?? hex(5),
            contact_id: existing?.contact_id ?? hex(16),
            web_id: existing?.web_id ?? Number.parseInt(hex(3), 16),
            email_type: 'html',
            status: existing?.status ?? body.status_if_new ?? 'subscribed',
            merge_fields: { ...obj(existing?.merge_fields), ...obj(body.merge_fields) },
            list_id: listId,
            timestamp_signup: existing?.timestamp_signup ?? now,
            last_changed: now,
            tags: existing?.tags ?? [],
          };
          members.set(hash, member);
          return reply(200, member, existing ? 'reapplied' : 'applied');
        },
      },
      {
        method: 'POST',
        path: new RegExp(`${L}/members/([0-9a-f]{32})/tags$`),
        kind: 'write',
        key: (req) => `tags:${req.params[0]}:${req.params[1]}`,
        handle(req) {
          const member = members.get(req.params[1]!);
          if (req.params[0] !== listId || !member) return reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), 'not_found');
          const tags = new Set(member.tags as string[]);
          for (const t of (obj(req.body).tags as { name: string; status: string }[] | undefined) ?? []) {
            if (t.status === 'active') tags.add(t.name);
            else tags.delete(t.name);
          }
          member.tags = [...tags];
          member.last_changed = new Date().toISOString();
          return { status: 204, outcome: 'reapplied' };
        },
      },
      {
        method: 'POST',
        path: /^\/3\.0\/customer-journeys\/journeys\/([^/]+)\/steps\/([^/]+)\/actions\/trigger$/,
        kind: 'write',
        key: (req) => `journey:${req.params[0]}/${req.params[1]}:${lower(obj(req.body).email_address)}`,
        handle(req, key) {
          const known = Object.values(sequences).some((s) => String(s.journeyId) === req.params[0] && String(s.stepId) === req.params[1]);
          if (!known) return reply(404, problem(404, 'Resource Not Found', 'The requested journey step could not be found.'), 'not_found');
          if (!members.has(md5(lower(obj(req.body).email_address)))) {
            return reply(400, problem(400, 'Bad Request', 'The contact is not in the journey\'s audience.'), 'rejected');
          }
          if (entered.has(key!) && admitsOnce) return { status: 204, outcome: 'deduplicated' };
          entered.add(key!);
          return { status: 204, outcome: 'applied' };
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${L}/members$`),
        kind: 'read',
        handle(req) {
          if (req.params[0] !== listId) return reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), 'not_found');
          // count (at most 1000) and offset, members changed since since_last_changed, oldest change first.
          const count = Math.min(Math.max(Number(req.query.get('count') ?? 10) || 10, 1), 1000);
          const offset = Math.max(0, Number(req.query.get('offset') ?? 0) || 0);
          const since = req.query.get('since_last_changed');
          const all = [...members.values()].filter((m) => !since || Date.parse(String(m.last_changed)) > Date.parse(since));
          all.sort((a, b) => String(a.last_changed).localeCompare(String(b.last_changed)) || String(a.id).localeCompare(String(b.id)));
          const page = all.slice(offset, offset + count).map((m) => ({ ...m, tags: (m.tags as string[]).map((name, i) => ({ id: i + 1, name })) }));
          return reply(200, { members: page, list_id: listId, total_items: all.length }, 'read');
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${L}$`),
        kind: 'read',
        handle: (req) =>
          req.params[0] === listId
            ? reply(200, { id: listId, web_id: 1, name: 'Fake couples', stats: { member_count: members.size } }, 'read')
            : reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), 'not_found'),
      },
    ],
  };
}
