import { z } from 'zod';
import { sendOnce } from '../../guard';
import type { CrmConnector } from '../../contracts';
import type { ProviderEntry } from '../../registry-types';
import { createCatchHookClient } from '../catch-hook/client';
import { deliveryReference, HOOK_HOSTS, hookCredentialsSchema, resolveHookUrl } from '../catch-hook/hook';
import { activityData, contactData, contactKey, customFieldsData, envelope, type HoneybookEvent, noteData, taskData } from './mapping';

export { HOOK_HOSTS };

/** The hook URL and the signing secret shared with the Zap (see ../catch-hook/hook.ts). */
export const credentialsSchema = hookCredentialsSchema;

/** Nothing to set: where to post is the hook URL (a credential). */
export const settingsSchema = z.object({}).strict();


export const honeybook: ProviderEntry<'crm', typeof credentialsSchema, typeof settingsSchema> = {
  id: 'honeybook',
  category: 'crm',
  displayName: 'HoneyBook (via Zapier or Make)',
  auth: 'webhook-secret',
  credentialsSchema,
  settingsSchema,
  hosts: HOOK_HOSTS,
  accountUrl: (credentials) => credentials.hookUrl,
  // Zapier: each catch hook answers 429 past about 30 requests a second, and all of a user's hooks
  // together past 10,000 per 5 minutes (about 33 a second). The lower of the two.
  ratePerSecond: 30,
  docsUrl: 'https://help.zapier.com/hc/en-us/articles/29972220283789-Webhooks-by-Zapier-rate-limits',
  create(ctx): CrmConnector {
    const client = createCatchHookClient({
      hookUrl: resolveHookUrl(ctx.credentials.hookUrl, ctx.http.baseUrl),
      signingSecret: ctx.credentials.signingSecret,
      http: ctx.http,
      now: ctx.now,
    });
    const nowIso = () => new Date(ctx.now()).toISOString();

    /** Posts the event once per idempotency key; the reference is the hook's request id unless given. */
    const deliver = (event: HoneybookEvent, key: string, occurredAt: string, data: Record<string, unknown>, reference?: string) =>
      sendOnce(ctx.guard, key, async () => {
        const res = await client.send(envelope(event, key, occurredAt, data));
        return reference ?? deliveryReference(res.body, key);
      });

    return {
      async upsertContact(person, opts) {
        const contactId = contactKey(person);
        const recorded = await deliver('upsertContact', opts.idempotencyKey, nowIso(), contactData(person), contactId);
        return { contactId: recorded ?? contactId };
      },

      async logActivity(input, opts) {
        const ref = await deliver('logActivity', opts.idempotencyKey, input.occurredAt, activityData(input));
        return { activityId: ref ?? null };
      },

      async createTask(input, opts) {
        const ref = await deliver('createTask', opts.idempotencyKey, nowIso(), taskData(input));
        return { taskId: ref ?? null };
      },

      async setCustomFields(input, opts) {
        await deliver('setCustomFields', opts.idempotencyKey, nowIso(), customFieldsData(input));
      },

      async addNote(input, opts) {
        const ref = await deliver('addNote', opts.idempotencyKey, nowIso(), noteData(input));
        return { noteId: ref ?? null };
      },

      // A catch hook has nothing to read, so the cheapest authenticated check is a signed `ping` the
      // Zap's filter drops: it proves the URL is live and lets the user test their verification step.
      async ping() {
        const at = ctx.now();
        await client.send(envelope('ping', `ping:${Math.floor(at / 1000)}`, new Date(at).toISOString(), {}));
      },
    };
  },
};
