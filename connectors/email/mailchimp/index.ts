import { z } from 'zod';
import type { ProviderEntry } from '../../registry-types';
import { createMailchimpClient } from './client';
import { MAILCHIMP_HOSTS, mailchimpStoredFields } from './mapping';

const id = z.union([z.number().int().positive(), z.string().regex(/^\d+$/)]);

const credentialsSchema = z
  .object({
    /** Account > Extras > API keys; the suffix after the dash is the data centre. */
    apiKey: z.string().regex(/^\S+-[a-z]+\d+$/, 'a Mailchimp API key ends in its data centre, e.g. "-us6"'),
  })
  .strict();

const settingsSchema = z
  .object({
    /** The audience id (Audience > Settings > Audience name and defaults). */
    listId: z.string().min(1),
    /** Our sequence names -> the journey and step ids from the Customer Journey's API starting point URL. */
    sequences: z.record(z.string().min(1), z.object({ journeyId: id, stepId: id }).strict()).default({}),
    /** 'pending' sends Mailchimp's double opt-in email; journeys only start once the contact confirms. */
    statusIfNew: z.enum(['subscribed', 'pending']).default('subscribed'),
    /**
     * Our merge-field names -> the audience's merge tags (up to 10 capitals, digits or underscores), over
     * the defaults (mapping.ts DEFAULT_MERGE_TAGS): the audience needs these merge fields.
     */
    mergeFieldTags: z.record(z.string().min(1), z.string().regex(/^[A-Z0-9_]{1,10}$/)).default({}),
  })
  .strict();

export const mailchimp: ProviderEntry<'email', typeof credentialsSchema, typeof settingsSchema> = {
  id: 'mailchimp',
  category: 'email',
  displayName: 'Mailchimp',
  auth: 'api-key',
  credentialsSchema,
  settingsSchema,
  hosts: MAILCHIMP_HOSTS,
  // Mailchimp limits an account to 10 simultaneous connections, not a rate. At 5 calls/s a call may take
  // up to 2 s on average before 10 are open at once (concurrency = rate x latency).
  // https://mailchimp.com/developer/marketing/docs/fundamentals/
  ratePerSecond: 5,
  readable: true,
  storedForm: mailchimpStoredFields,
  docsUrl: 'https://mailchimp.com/developer/marketing/docs/fundamentals/',
  create: (ctx) => createMailchimpClient(ctx),
};
