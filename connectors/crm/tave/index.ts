import { z } from 'zod';
import { sendOnce } from '../../guard';
import type { CrmConnector, Person } from '../../contracts';
import { ConnectorError } from '../../errors';
import type { ProviderEntry } from '../../registry-types';
import { createTaveClient, TAVE_HOSTS, type TaveClient } from './client';
import { activityNote, normalizeEmail, pickContactByEmail, plainNote, resolveCustomFields, taskNote, toTavePerson, type TaveContact, type TaveNoteWrite } from './mapping';

export const credentialsSchema = z
  .object({
    /** Settings > API Integrations in VSCO Workspace; a Read/Write key. */
    apiKey: z.string().trim().min(1),
  })
  .strict();

/** Nothing to set: every studio's API is https://workspace.vsco.co/api/v2. */
export const settingsSchema = z.object({}).strict();

const PROVIDER = 'tave';

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
  docsUrl: 'https://workspace.vsco.co/api',
  create(ctx): CrmConnector {
    const client = createTaveClient({ apiKey: ctx.credentials.apiKey, http: ctx.http });

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
    };
  },
};
