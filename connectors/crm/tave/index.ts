import { z } from 'zod';
import { sendOnce } from '../../guard';
import type { CrmConnector, Person } from '../../contracts';
import { ConnectorError } from '../../errors';
import type { ProviderEntry } from '../../registry-types';
import { createTaveClient, TAVE_HOSTS, type TaveClient } from './client';
import {
  activityNote,
  normalizeEmail,
  pickContactByEmail,
  plainNote,
  resolveCustomFields,
  taskNote,
  taveContactRecord,
  taveStoredFields,
  toTavePerson,
  type TaveContact,
  type TaveCustomField,
  type TaveNoteWrite,
} from './mapping';

export const credentialsSchema = z
  .object({
    /** Settings > API Integrations in VSCO Workspace; a Read/Write key. */
    apiKey: z.string().trim().min(1),
  })
  .strict();

/** Nothing to set: every studio's API is https://workspace.vsco.co/api/v2. */
export const settingsSchema = z.object({}).strict();

const PROVIDER = 'tave';

/** The API's page size bounds (pageSize: minimum 10, maximum 100). */
const MIN_PAGE = 10;
const MAX_PAGE = 100;
/** Custom field definitions change rarely: one read serves a whole pass. */
const DEFINITIONS_TTL_MS = 60_000;

function idOf(record: { id?: unknown } | undefined, what: string): string {
  if (record && typeof record.id === 'string' && record.id) return record.id;
  throw new ConnectorError({ code: 'unexpected_response', retryable: false, provider: PROVIDER, message: `VSCO Workspace returned a ${what} without an id` });
}


async function findContact(client: TaveClient, email: string): Promise<TaveContact | undefined> {
  const wanted = normalizeEmail(email);
  return pickContactByEmail(await client.findContactsByEmail(wanted), wanted);
}

/** Upsert by email, the API's only natural key: find the person, then update it or create one. */
async function upsert(client: TaveClient, person: Person): Promise<string> {
  const body = toTavePerson(person);
  const existing = await findContact(client, body.email);
  if (existing) {
    await client.updateContact(existing.id, body);
    return existing.id;
  }
  return idOf(await client.createContact(body), 'contact');
}

/** The contact a note belongs to: the id we were given, else the person found by email, else a new one. */
async function contactFor(client: TaveClient, person: Person, contactId?: string): Promise<string> {
  if (contactId) return contactId;
  const existing = await findContact(client, person.email);
  return existing ? existing.id : idOf(await client.createContact(toTavePerson(person)), 'contact');
}

export const tave: ProviderEntry<'crm', typeof credentialsSchema, typeof settingsSchema> = {
  id: 'tave',
  category: 'crm',
  displayName: 'VSCO Workspace (Táve)',
  auth: 'api-key',
  credentialsSchema,
  settingsSchema,
  hosts: TAVE_HOSTS,
  // No quota is published: every operation documents 429 with Retry-After (honoured by classify).
  // 2 a second keeps a studio's key well clear of it; see README "Assumptions to verify".
  ratePerSecond: 2,
  readable: true,
  storedForm: taveStoredFields,
  docsUrl: 'https://workspace.vsco.co/api',
  create(ctx): CrmConnector {
    const client = createTaveClient({ apiKey: ctx.credentials.apiKey, http: ctx.http });

    let definitions: { at: number; items: Promise<TaveCustomField[]> } | undefined;
    const customFields = () => {
      if (!definitions || ctx.now() - definitions.at > DEFINITIONS_TTL_MS) {
        const items = client.listContactCustomFields();
        definitions = { at: ctx.now(), items };
        items.catch(() => (definitions = undefined));
      }
      return definitions.items;
    };

    /** Notes have no idempotency key or external id, so each is guarded by the delivery record. */
    const noteOnce = (key: string, person: Person, contactId: string | undefined, build: (contactId: string) => TaveNoteWrite) =>
      sendOnce(ctx.guard, key, async () => {
        const id = await contactFor(client, person, contactId);
        return idOf(await client.createNote(build(id)), 'note');
      });

    return {
      async upsertContact(person) {
        return { contactId: await upsert(client, person) };
      },

      async logActivity(input, opts) {
        const noteId = await noteOnce(opts.idempotencyKey, input.person, input.contactId, (id) => activityNote(id, input));
        return { activityId: noteId ?? null };
      },

      async createTask(input, opts) {
        const noteId = await noteOnce(opts.idempotencyKey, input.person, input.contactId, (id) => taskNote(id, input));
        return { taskId: noteId ?? null };
      },

      // Writing the same values again is harmless (PUT), so no delivery record is needed.
      async setCustomFields(input) {
        if (Object.keys(input.fields).length === 0) return;
        const { values, unknown } = resolveCustomFields(input.fields, await client.listContactCustomFields());
        if (unknown.length > 0) {
          throw new ConnectorError({
            code: 'misconfigured',
            retryable: false,
            provider: PROVIDER,
            message: `VSCO Workspace has no contact custom field named ${unknown.map((n) => `"${n}"`).join(', ')}; create it in Settings > Custom Fields or fix the field mapping`,
          });
        }
        const contactId = await contactFor(client, input.person, input.contactId);
        await client.updateContact(contactId, { kind: 'person', customFields: values });
      },

      async addNote(input, opts) {
        const noteId = await noteOnce(opts.idempotencyKey, input.person, input.contactId, (id) => plainNote(id, input.body));
        return { noteId: noteId ?? null };
      },

      async ping() {
        await client.myStudio();
      },

      /**
       * The API has no "changed since" filter, so an incremental pass reads the address book newest change
       * first (`sortBy=modified desc`) and stops at the first person older than the cursor; a full pass
       * reads it by id. The page token is the page number; the next cursor is when this pass started.
       */
      async listChanges(query) {
        const since = query.cursor !== undefined ? Date.parse(query.cursor) : undefined;
        if (since !== undefined && Number.isNaN(since)) {
          throw new ConnectorError({ code: 'cursor_expired', retryable: false, provider: PROVIDER, message: 'Not a cursor of this connector: a full pass is needed' });
        }
        const page = query.page !== undefined ? Math.max(1, Number(query.page) || 1) : 1;
        const pageSize = Math.min(Math.max(query.pageSize, MIN_PAGE), MAX_PAGE);
        const [res, defs] = await Promise.all([
          client.listContacts({ page, pageSize, sortBy: since !== undefined ? 'modified desc' : 'id asc' }),
          customFields(),
        ]);
        const records = [];
        let older = false;
        for (const contact of res.items) {
          if (since !== undefined && contact.modified && Date.parse(contact.modified) < since) {
            older = true;
            break;
          }
          const record = taveContactRecord(contact, defs);
          if (record) records.push(record);
        }
        const lastPage = res.meta?.totalPages !== undefined ? page >= res.meta.totalPages : res.items.length < pageSize;
        if (older || lastPage) return { records, cursor: new Date(query.startedAt).toISOString() };
        return { records, nextPage: String(page + 1) };
      },
    };
  },
};
