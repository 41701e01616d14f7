import { z } from 'zod';
import type { ProviderEntry } from '../../registry-types';
import { createKitClient } from './client';
import { KIT_HOSTS } from './mapping';

const credentialsSchema = z
  .object({
    /** Settings > Developer > API keys: a v4 key (starts with kit_). */
    apiKey: z.string().trim().min(10, 'a Kit v4 API key (Settings > Developer)'),
  })
  .strict();

const settingsSchema = z
  .object({
    /** Our sequence names -> Kit sequence ids (the number in the sequence's URL). */
    sequences: z.record(z.string().min(1), z.number().int().positive()).default({}),
    /** Our merge-field names -> Kit custom field keys (Subscribers > custom fields). */
    fieldKeys: z.record(z.string().min(1), z.string().regex(/^[a-z0-9_]{1,100}$/, 'a Kit custom field key, e.g. resume_url')).default({ resumeUrl: 'resume_url' }),
  })
  .strict();

export const kit: ProviderEntry<'email', typeof credentialsSchema, typeof settingsSchema> = {
  id: 'kit',
  category: 'email',
  displayName: 'Kit (formerly ConvertKit)',
  auth: 'api-key',
  credentialsSchema,
  settingsSchema,
  hosts: KIT_HOSTS,
  // An API key may send 120 requests in 60 seconds (https://developers.kit.com/api-reference/rate-limits).
  ratePerSecond: 2,
  docsUrl: 'https://developers.kit.com/api-reference/rate-limits',
  create: (ctx) => createKitClient(ctx),
};
