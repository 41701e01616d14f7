import { z } from 'zod';
import type { ProviderEntry } from '../../registry-types';
import { createTwilioClient, TWILIO_HOSTS } from './client';

const accountSid = z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'an Account SID (AC…)');

const credentialsSchema = z.union([
  /** Recommended: an API key (Console > Account > API keys & tokens). */
  z
    .object({
      accountSid,
      apiKeySid: z.string().regex(/^SK[0-9a-fA-F]{32}$/, 'an API key SID (SK…)'),
      apiKeySecret: z.string().min(1),
      /** Twilio signs status callbacks with the account's Auth Token only: needed to accept them. */
      authToken: z.string().min(1).optional(),
    })
    .strict(),
  z.object({ accountSid, authToken: z.string().min(1) }).strict(),
]);

const settingsSchema = z
  .object({
    /** A Twilio number in E.164 (+15555550100), a short code or an approved alphanumeric sender id. */
    from: z.string().min(1).optional(),
    /** A Messaging Service (MG…): Twilio picks the sender from its pool. */
    messagingServiceSid: z.string().regex(/^MG[0-9a-fA-F]{32}$/, 'a Messaging Service SID (MG…)').optional(),
    /** Where Twilio POSTs status changes (queued, sent, delivered, undelivered, failed). */
    statusCallbackUrl: z.string().url().optional(),
  })
  .strict()
  .refine((s) => (s.from === undefined) !== (s.messagingServiceSid === undefined), { message: 'Set exactly one of from or messagingServiceSid' });

export const twilio: ProviderEntry<'sms', typeof credentialsSchema, typeof settingsSchema> = {
  id: 'twilio',
  category: 'sms',
  displayName: 'Twilio',
  auth: 'api-key',
  credentialsSchema,
  settingsSchema,
  hosts: TWILIO_HOSTS,
  // A US long code sends 1 message segment per second; Twilio queues the excess per sender for up to
  // 10 hours rather than refusing it. The REST API itself is limited by concurrency (HTTP 429, error
  // 20429), with no published number. https://www.twilio.com/docs/api/errors/30001
  ratePerSecond: 1,
  docsUrl: 'https://www.twilio.com/docs/usage/requests-to-twilio',
  create: (ctx) => createTwilioClient(ctx),
};
