import { alnum, json, lower, obj, type FakeRequest, type ProviderSpec, type Reply } from '../support/fake-core';

/**
 * ActiveCampaign API v3 (https://developers.activecampaign.com/reference) on an account's API URL, as
 * the connector calls it with `Api-Token`: contact/sync, contactLists, contacts by email, tags and
 * contactTags, a contact's contactAutomations, contactAutomations, users/me (the ping).
 *
 * Identity of a write: contact `contact:<email>` (sync is an upsert: 201 then 200, `reapplied`), list
 * membership `list:<list>:<contact>`, tag `tag:<name>`, tagging `contactTag:<contact>:<tag>`, and
 * automation entry `automation:<automation>:<contact>`. Adding a contact to an automation that lets
 * contacts re-enter runs it again: every POST is `applied`, so a repeat shows in `duplicates()`.
 * A wrong token is 403, as ActiveCampaign answers it. Names and phone: at most 255 characters.
 */

export interface ActiveCampaignFakeState {
  contacts: Map<string, Record<string, unknown>>;
  /** Automation ids that exist, and each entry of a contact into one. */
  automations: Set<string>;
  contactAutomations: { id: string; contact: string; automation: string }[];
  contactLists: Map<string, { id: string; list: string; contact: string; status: number }>;
  tags: Map<string, { id: string; tag: string }>;
  contactTags: Map<string, { id: string; contact: string; tag: string }>;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const problem = (title: string, code: string, pointer: string) => ({ errors: [{ title, detail: '', code, source: { pointer } }] });

export function activecampaignSpec(): ProviderSpec {
  const apiToken = alnum(72).toLowerCase();
  const state: ActiveCampaignFakeState = { contacts: new Map(), automations: new Set(['31', '32']), contactAutomations: [], contactLists: new Map(), tags: new Map(), contactTags: new Map() };
  let nextId = 100;
  const id = () => String(nextId++);
  const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, '-00:00');
  const contactById = (contactId: unknown) => [...state.contacts.values()].find((c) => c.id === String(contactId));
  const body = (req: FakeRequest, wrapper: string) => obj(obj(req.body)[wrapper]);
  const noContact = () => json(404, { message: 'No Result found for Subscriber with id' }, 'not_found');

  function sync(req: FakeRequest): Reply {
    const contact = body(req, 'contact');
    const email = lower(contact.email);
    if (!EMAIL.test(email) || String(contact.email).length > 255) return json(422, problem('Email address is not valid.', 'email_invalid', '/data/attributes/email'), 'rejected');
    for (const field of ['firstName', 'lastName', 'phone']) {
      const v = contact[field];
      if (v !== undefined && (typeof v !== 'string' || v.length > 255)) return json(422, problem(`${field} is too long.`, 'field_invalid', `/data/attributes/${field}`), 'rejected');
    }
    const prior = state.contacts.get(email);
    const at = now();
    const record = {
      ...prior,
      id: prior?.id ?? id(),
      email,
      firstName: contact.firstName ?? prior?.firstName ?? '',
      lastName: contact.lastName ?? prior?.lastName ?? '',
      phone: contact.phone ?? prior?.phone ?? '',
      fieldValues: contact.fieldValues ?? prior?.fieldValues ?? [],
      cdate: prior?.cdate ?? at,
      udate: at,
    };
    state.contacts.set(email, record);
    return json(prior ? 200 : 201, { fieldValues: record.fieldValues, contact: record }, prior ? 'reapplied' : 'applied');
  }

  return {
    id: 'activecampaign',
    state,
    errorBody: (status) => ({ message: status === 404 ? 'Not Found' : 'Service Unavailable' }),
    integration: () => ({
      provider: 'activecampaign',
      category: 'email',
      auth: 'api-key',
      credentials: { apiToken },
      settings: { apiUrl: 'https://tourhubfake.api-us1.com', listId: '7', automations: { welcome: '31', 're-engagement': '32' }, fieldIds: { resumeUrl: '12' } },
    }),
    baseUrl: (url) => `${url}/api/3`,
    authorize: (req) => (req.headers['api-token'] === apiToken ? undefined : json(403, { message: 'Forbidden' }, 'unauthorized')),
    routes: [
      { method: 'POST', path: /^\/api\/3\/contact\/sync$/, kind: 'write', key: (req) => `contact:${lower(body(req, 'contact').email)}`, handle: sync },
      {
        method: 'POST',
        path: /^\/api\/3\/contactLists$/,
        kind: 'write',
        key: (req) => `list:${String(body(req, 'contactList').list)}:${String(body(req, 'contactList').contact)}`,
        handle(req) {
          const link = body(req, 'contactList');
          if (!contactById(link.contact)) return noContact();
          const key = `${String(link.list)}:${String(link.contact)}`;
          const prior = state.contactLists.get(key);
          const record = { id: prior?.id ?? id(), list: String(link.list), contact: String(link.contact), status: Number(link.status ?? 1) };
          state.contactLists.set(key, record);
          return json(prior ? 200 : 201, { contactList: record }, prior ? 'reapplied' : 'applied');
        },
      },
      {
        method: 'GET',
        path: /^\/api\/3\/contacts$/,
        kind: 'read',
        handle(req) {
          const email = req.query.get('email');
          const contacts = [...state.contacts.values()].filter((c) => email === null || c.email === lower(email));
          return json(200, { contacts, meta: { total: String(contacts.length) } }, 'read');
        },
      },
      {
        method: 'GET',
        path: /^\/api\/3\/tags$/,
        kind: 'read',
        handle(req) {
          const search = lower(req.query.get('search'));
          const tags = [...state.tags.values()].filter((t) => lower(t.tag).includes(search));
          return json(200, { tags, meta: { total: String(tags.length) } }, 'read');
        },
      },
      {
        method: 'POST',
        path: /^\/api\/3\/tags$/,
        kind: 'write',
        key: (req) => `tag:${lower(body(req, 'tag').tag)}`,
        handle(req) {
          const name = body(req, 'tag').tag;
          if (typeof name !== 'string' || name.trim() === '') return json(422, problem('Tag name is required.', 'field_missing', '/data/attributes/tag'), 'rejected');
          if (state.tags.has(lower(name))) return json(422, problem('Duplicate tag name.', 'duplicate', '/data/attributes/tag'), 'deduplicated');
          const tag = { id: id(), tag: name, tagType: 'contact', description: String(body(req, 'tag').description ?? '') };
          state.tags.set(lower(name), tag);
          return json(201, { tag }, 'applied');
        },
      },
      {
        method: 'POST',
        path: /^\/api\/3\/contactTags$/,
        kind: 'write',
        key: (req) => `contactTag:${String(body(req, 'contactTag').contact)}:${String(body(req, 'contactTag').tag)}`,
        handle(req) {
          const link = body(req, 'contactTag');
          if (!contactById(link.contact)) return noContact();
          const key = `${String(link.contact)}:${String(link.tag)}`;
          const prior = state.contactTags.get(key);
          const record = prior ?? { id: id(), contact: String(link.contact), tag: String(link.tag) };
          state.contactTags.set(key, record);
          return json(201, { contactTag: record }, prior ? 'reapplied' : 'applied');
        },
      },
      {
        method: 'GET',
        path: /^\/api\/3\/contacts\/(\d+)\/contactTags$/,
        kind: 'read',
        handle: (req) => (contactById(req.params[0]) ? json(200, { contactTags: [...state.contactTags.values()].filter((t) => t.contact === req.params[0]) }, 'read') : noContact()),
      },
      {
        method: 'DELETE',
        path: /^\/api\/3\/contactTags\/(\d+)$/,
        kind: 'write',
        key: (req) => {
          const link = [...state.contactTags.values()].find((t) => t.id === req.params[0]);
          return link ? `contactTag:${link.contact}:${link.tag}` : undefined;
        },
        handle(req) {
          const entry = [...state.contactTags].find(([, t]) => t.id === req.params[0]);
          if (!entry) return json(404, { message: 'No Result found for ContactTag with id' }, 'not_found');
          state.contactTags.delete(entry[0]);
          return json(200, {}, 'reapplied');
        },
      },
      {
        method: 'GET',
        path: /^\/api\/3\/contacts\/(\d+)\/contactAutomations$/,
        kind: 'read',
        handle: (req) =>
          contactById(req.params[0])
            ? json(200, { contactAutomations: state.contactAutomations.filter((ca) => ca.contact === req.params[0]).map((ca) => ({ ...ca, seriesid: ca.automation, status: '1' })) }, 'read')
            : noContact(),
      },
      {
        method: 'POST',
        path: /^\/api\/3\/contactAutomations$/,
        kind: 'write',
        key: (req) => `automation:${String(body(req, 'contactAutomation').automation)}:${String(body(req, 'contactAutomation').contact)}`,
        handle(req) {
          const entry = body(req, 'contactAutomation');
          if (!contactById(entry.contact)) return noContact();
          if (!state.automations.has(String(entry.automation))) return json(422, problem('Automation does not exist.', 'related_missing', '/data/attributes/automation'), 'rejected');
          const record = { id: id(), contact: String(entry.contact), automation: String(entry.automation) };
          state.contactAutomations.push(record);
          return json(201, { contacts: [contactById(entry.contact)], contactAutomation: { ...record, seriesid: record.automation, startid: '0', status: '1', adddate: now() } }, 'applied');
        },
      },
      { method: 'GET', path: /^\/api\/3\/users\/me$/, kind: 'read', handle: () => json(200, { user: { id: '1', username: 'planner', firstName: 'Fake', lastName: 'Planner', email: 'planner@example.com' } }, 'read') },
    ],
  };
}
