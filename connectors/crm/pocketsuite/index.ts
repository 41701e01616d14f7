import { z } from 'zod';
import type { CrmConnector } from '../../contracts';
import { sendOnce } from '../../guard';
import type { ProviderEntry } from '../../registry-types';
import { createCatchHookClient } from '../catch-hook/client';
import { deliveryReference, envelope, HOOK_HOSTS, hookCredentialsSchema, resolveHookUrl } from '../catch-hook/hook';
import { activityEnvelope, clientKey, contactEnvelope, customFieldsEnvelope, noteEnvelope, taskEnvelope, type PocketSuiteEnvelope } from './mapping';

/** The Zap's catch hook URL and the signing secret its verification step shares. */
export const credentialsSchema = hookCredentialsSchema;

/** Nothing to set: where to post is the hook URL (a credential). */
export const settingsSchema = z.object({}).strict();

export const pocketsuite: ProviderEntry<'crm', typeof credentialsSchema, typeof settingsSchema> = {
  id: 'pocketsuite',
  category: 'crm',
  displayName: 'PocketSuite (via Zapier or Make)',
  auth: 'webhook-secret',
  credentialsSchema,
  settingsSchema,
  hosts: HOOK_HOSTS,
  accountUrl: (credentials) => credentials.hookUrl,
  // The calls go to Zapier, not PocketSuite: one catch hook answers 429 past about 30 requests a second
  // (and a user's hooks together past 10,000 per 5 minutes).
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

    /** A catch hook has no idempotency key: the delivery record, then the Zap's dedupe on idempotency_key. */
    const deliver = (body: PocketSuiteEnvelope, reference?: string) =>
      sendOnce(ctx.guard, body.idempotency_key, async () => {
        const res = await client.send(body);
        return reference ?? deliveryReference(res.body, body.idempotency_key);
      });

    return {
      async upsertContact(person, opts) {
        const contactId = clientKey(person);
        return { contactId: (await deliver(contactEnvelope(person, opts.idempotencyKey, nowIso()), contactId)) ?? contactId };
      },
      async logActivity(input, opts) {
        return { activityId: (await deliver(activityEnvelope(input, opts.idempotencyKey))) ?? null };
      },
      async createTask(input, opts) {
        return { taskId: (await deliver(taskEnvelope(input, opts.idempotencyKey, nowIso()))) ?? null };
      },
      async setCustomFields(input, opts) {
        if (Object.keys(input.fields).length === 0) return;
        await deliver(customFieldsEnvelope(input, opts.idempotencyKey, nowIso()));
      },
      async addNote(input, opts) {
        return { noteId: (await deliver(noteEnvelope(input, opts.idempotencyKey, nowIso()))) ?? null };
      },
      // Nothing to read at a catch hook: a signed `ping` the Zap's filter drops proves the URL is live.
      async ping() {
        const at = ctx.now();
        await client.send(envelope('ping', `ping:${Math.floor(at / 1000)}`, new Date(at).toISOString(), {}));
      },
    };
  },
};
