import { z } from 'zod';
import type { ProviderEntry } from '../../registry-types';
import { createVonageClient } from './client';
import { VONAGE_HOSTS } from './mapping';

const credentialsSchema = z
  .object({
    /** Dashboard > API settings: the account's API key and secret. */
    apiKey: z.string().regex(/^[0-9a-f]{8}$/i, 'the 8-character API key from the Vonage dashboard'),
    apiSecret: z.string().min(8),
  })
  .strict();

const settingsSchema = z
  .object({
    /** A Vonage number in E.164 (+14155550100) or an approved alphanumeric sender id (up to 11 characters). */
    from: z.string().regex(/^(\+?[1-9]\d{6,14}|[A-Za-z0-9 ]{1,11})$/, 'a Vonage number (+14155550100) or a sender id of up to 11 letters and digits'),
  })
  .strict();

export const vonage: ProviderEntry<'sms', typeof credentialsSchema, typeof settingsSchema> = {
  id: 'vonage',
  category: 'sms',
  displayName: 'Vonage',
  auth: 'api-key',
  credentialsSchema,
  settingsSchema,
  hosts: VONAGE_HOSTS,
  // The SMS API takes 30 requests a second per account (status 1, "Throttled", past it); a US long code
  // sends 1 message a second, which Vonage queues. https://api.support.vonage.com/hc/en-us/articles/203993598
  ratePerSecond: 30,
  docsUrl: 'https://api.support.vonage.com/hc/en-us/articles/203993598',
  create: (ctx) => createVonageClient({ ...ctx, settings: { from: ctx.settings.from.replace(/^\+/, '') } }),
};
