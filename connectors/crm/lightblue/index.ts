import { z } from 'zod';
import { sendOnce } from '../../guard';
import type { CrmConnector, Person } from '../../contracts';
import type { ProviderEntry } from '../../registry-types';
import { createLightBlueClient } from './client';
import { activityMessage, contactMessage, customFieldsMessage, normalizeEmail, noteMessage, requestParams, taskMessage } from './mapping';

export const credentialsSchema = z
  .object({
    /** Light Blue desktop app: Preferences > Integrations > "API & Zapier" (Generate API Key). */
    apiKey: z.string().trim().min(1),
  })
  .strict();

export const settingsSchema = z
  .object({
    /** Defaults to https://online.lightbluesoftware.com; api.php and apiCheck.php are resolved against it. */
    baseUrl: z.url().optional(),
  })
  .strict();


export const lightblue: ProviderEntry<'crm', typeof credentialsSchema, typeof settingsSchema> = {
  id: 'lightblue',
  category: 'crm',
  displayName: 'Light Blue',
  auth: 'api-key',
  credentialsSchema,
  settingsSchema,
  // Light Blue publishes no rate limit for api.php, which is built for website contact forms.
  // One a second is a contact form's pace; see README "Assumptions to verify".
  ratePerSecond: 1,
  docsUrl: 'https://www.lightbluesoftware.com/help/help-resources/sending-data-directly-to-the-light-blue-api-via-http-post/',
  create(ctx): CrmConnector {
    const client = createLightBlueClient({ apiKey: ctx.credentials.apiKey, timeoutMs: ctx.timeoutMs, ...(ctx.settings.baseUrl ? { baseUrl: ctx.settings.baseUrl } : {}) });

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
