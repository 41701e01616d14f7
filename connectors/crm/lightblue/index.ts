import { z } from 'zod';
import { sendOnce } from '../../guard';
import type { CrmConnector, Person } from '../../contracts';
import type { ProviderEntry } from '../../registry-types';
import { createLightBlueClient, LIGHTBLUE_HOST, LIGHTBLUE_HOSTS } from './client';
import { activityMessage, contactMessage, customFieldsMessage, normalizeEmail, noteMessage, requestParams, taskMessage } from './mapping';

export const credentialsSchema = z
  .object({
    /** Light Blue desktop app: Preferences > Integrations > "API & Zapier" (Generate API Key). */
    apiKey: z.string().trim().min(1),
  })
  .strict();

export const settingsSchema = z
  .object({
    /**
     * The account's host, default online.lightbluesoftware.com: https://<host>/api.php. Only hosts under
     * lightbluesoftware.com are reached (checked when saved, with the address rules), and changing it
     * needs the API key again, so the key never follows a host somewhere else.
     */
    accountHost: z
      .string()
      .trim()
      .toLowerCase()
      .max(253)
      .regex(/^[a-z0-9.:[\]-]+$/, 'a host name such as online.lightbluesoftware.com, without a scheme, port or path')
      .optional(),
  })
  .strict();


export const lightblue: ProviderEntry<'crm', typeof credentialsSchema, typeof settingsSchema> = {
  id: 'lightblue',
  category: 'crm',
  displayName: 'Light Blue',
  auth: 'api-key',
  credentialsSchema,
  settingsSchema,
  hosts: LIGHTBLUE_HOSTS,
  accountUrl: (_credentials, settings) => `https://${settings.accountHost ?? LIGHTBLUE_HOST}/`,
  // Light Blue publishes no rate limit for api.php, which is built for website contact forms.
  // One a second is a contact form's pace; see README "Assumptions to verify".
  ratePerSecond: 1,
  docsUrl: 'https://www.lightbluesoftware.com/help/help-resources/sending-data-directly-to-the-light-blue-api-via-http-post/',
  create(ctx): CrmConnector {
    const client = createLightBlueClient({ apiKey: ctx.credentials.apiKey, http: ctx.http, ...(ctx.settings.accountHost ? { accountHost: ctx.settings.accountHost } : {}) });

    /**
     * Every write is one Inbox item. Two layers keep it single: the delivery record skips keys already
     * sent, and Light Blue itself refuses a repeated Source + ID (status -4), which covers a retry after
     * a crash between the call and markSent.
     */
    const submit = (key: string, person: Person, message: string, reference = `inbox:${key}`) =>
      sendOnce(ctx.guard, key, async () => {
        await client.submit(requestParams(key, person, message));
        return reference;
      });

    return {
      // Light Blue returns no record id (the planner imports the Inbox item), and it matches contacts
      // by their details, so the normalised email is the contact id we hand back.
      async upsertContact(person, opts) {
        const contactId = normalizeEmail(person.email);
        return { contactId: (await submit(opts.idempotencyKey, person, contactMessage(person), contactId)) ?? contactId };
      },

      async logActivity(input, opts) {
        return { activityId: (await submit(opts.idempotencyKey, input.person, activityMessage(input))) ?? null };
      },

      async createTask(input, opts) {
        return { taskId: (await submit(opts.idempotencyKey, input.person, taskMessage(input))) ?? null };
      },

      async setCustomFields(input, opts) {
        if (Object.keys(input.fields).length === 0) return;
        await submit(opts.idempotencyKey, input.person, customFieldsMessage(input.fields));
      },

      async addNote(input, opts) {
        return { noteId: (await submit(opts.idempotencyKey, input.person, noteMessage(input.body))) ?? null };
      },

      async ping() {
        await client.checkKey();
      },
    };
  },
};
