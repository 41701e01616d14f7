import { hex, json, lower, obj, sha256, ulid, type FakeOptions, type ProviderSpec } from '../support/fake-core';

/**
 * Tave / VSCO Workspace API v2: address book, custom fields, notes.
 * Served by the fake server core (test/support/fake-core.ts); started with the others by
 * test/support/fake-providers.ts.
 */
export function taveSpec(opts: FakeOptions): ProviderSpec {
  const apiKey = `tave_${hex(16)}`;
  const contacts = new Map<string, Record<string, unknown>>();
  const notes = new Map<string, Record<string, unknown>>();
  const fields = (opts.taveCustomFields ?? [
    { name: 'Tour completed at', token: 'tour_completed_at' },
    { name: 'Tour name', token: 'tour_name' },
    { name: 'Tour rating', token: 'tour_rating' },
  ]).map((f) => ({ id: ulid(), name: f.name, token: f.token, canApplyTo: 'contact', kind: 'text', hidden: false }));
  const problem = (status: number, title: string, detail?: string) => ({ type: 'unknown', title, status, ...(detail ? { detail } : {}) });
  const collection = (type: string, items: unknown[]) => ({ type, meta: { currentPage: 1, totalPages: 1, totalItems: items.length, rows: 100 }, items });
  const P = '^/api/v2';
  return {
    id: 'tave',
    stores: { contacts },
    touch: (_name, id) => {
      const c = contacts.get(id);
      if (c) c.modified = new Date().toISOString();
    },
    errorBody: (status) => problem(status, status === 404 ? 'Not Found' : 'Service Unavailable'),
    integration: () => ({ provider: 'tave', category: 'crm', auth: 'api-key', credentials: { apiKey }, settings: {} }),
    baseUrl: (url) => `${url}/api/v2`,
    authorize: (req) => (req.headers['x-api-key'] === apiKey ? undefined : json(401, problem(401, 'Unauthorized', 'API key is missing or invalid'), 'unauthorized')),
    routes: [
      {
        method: 'GET',
        path: new RegExp(`${P}/address-book$`),
        kind: 'read',
        handle(req) {
          const wanted = lower(req.query.get('email'));
          if (wanted) {
            const matches = [...contacts.values()].filter((c) => lower(c.email).includes(wanted));
            matches.sort((a, b) => Number(lower(b.email) === wanted) - Number(lower(a.email) === wanted));
            return json(200, collection('addressbook-collection', matches), 'read');
          }
          // The whole address book, a page at a time (page from 1, pageSize 10 to 100), sorted as asked.
          const pageSize = Math.min(Math.max(Number(req.query.get('pageSize') ?? 100) || 100, 10), 100);
          const page = Math.max(1, Number(req.query.get('page') ?? 1) || 1);
          const all = [...contacts.values()];
          if (req.query.get('sortBy') === 'modified desc') all.sort((a, b) => String(b.modified).localeCompare(String(a.modified)) || String(a.id).localeCompare(String(b.id)));
          else all.sort((a, b) => String(a.id).localeCompare(String(b.id)));
          const items = all.slice((page - 1) * pageSize, page * pageSize);
          const totalPages = Math.max(1, Math.ceil(all.length / pageSize));
          return json(200, { type: 'addressbook-collection', meta: { currentPage: page, totalPages, totalItems: all.length, rows: pageSize }, items }, 'read');
        },
      },
      {
        method: 'POST',
        path: new RegExp(`${P}/address-book$`),
        kind: 'write',
        key: (req) => `contact:${lower(obj(req.body).email)}`,
        handle(req) {
          const body = obj(req.body);
          if (body.kind !== 'person' || typeof body.email !== 'string') return json(422, problem(422, 'Unprocessable Entity', 'kind and email are required'), 'rejected');
          const now = new Date().toISOString();
          const contact = { ...body, id: ulid(), created: now, modified: now };
          contacts.set(contact.id, contact);
          return json(201, contact, 'applied');
        },
      },
      {
        method: 'PUT',
        path: new RegExp(`${P}/address-book/([^/]+)$`),
        kind: 'write',
        key: (req) => {
          const existing = contacts.get(req.params[0]!);
          return `contact:${lower(existing?.email ?? obj(req.body).email)}`;
        },
        handle(req) {
          const existing = contacts.get(req.params[0]!);
          if (!existing) return json(404, problem(404, 'Not Found'), 'not_found');
          const body = obj(req.body);
          // Custom field values merge by fieldId (README "Assumptions to verify").
          const values = new Map<string, unknown>((Array.isArray(existing.customFields) ? existing.customFields : []).map((v) => [String(obj(v).fieldId), v]));
          for (const v of Array.isArray(body.customFields) ? body.customFields : []) values.set(String(obj(v).fieldId), v);
          const updated = { ...existing, ...body, customFields: [...values.values()], id: existing.id, modified: new Date().toISOString() };
          contacts.set(existing.id as string, updated);
          return json(200, updated, 'reapplied');
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${P}/custom-field$`),
        kind: 'read',
        handle: () => json(200, collection('customfield-collection', fields), 'read'),
      },
      {
        method: 'POST',
        path: new RegExp(`${P}/note$`),
        kind: 'write',
        // Notes have no key: the same text on the same contact twice is a duplicate the studio sees.
        key: (req) => `note:${String(obj(req.body).contactId)}:${sha256(String(obj(req.body).contentHtml ?? ''))}`,
        handle(req) {
          const body = obj(req.body);
          if (!contacts.has(String(body.contactId))) return json(422, problem(422, 'Unprocessable Entity', 'contactId does not exist'), 'rejected');
          const note = { id: ulid(), contactId: body.contactId, contentHtml: body.contentHtml, date: body.date ?? new Date().toISOString().slice(0, 10), created: new Date().toISOString() };
          notes.set(note.id, note);
          return json(201, note, 'applied');
        },
      },
      { method: 'GET', path: new RegExp(`${P}/studio/me$`), kind: 'read', handle: () => json(200, { id: '01fakestudio', name: 'Fake Studio' }, 'read') },
    ],
  };
}
