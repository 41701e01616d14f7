import { z } from 'zod';
import type { ProviderEntry } from '../../registry-types';
import { createActiveCampaignClient } from './client';
import { ACTIVECAMPAIGN_HOSTS } from './mapping';

const id = z.union([z.string().regex(/^\d+$/), z.number().int().positive().transform(String)]);

const credentialsSchema = z
  .object({
    /** Settings > Developer > API Access: the user's key. */
    apiToken: z.string().trim().min(20, 'the API key from Settings > Developer'),
  })
  .strict();

const settingsSchema = z
  .object({
    /**
     * Settings > Developer > API Access: the account's API URL, https://<account>.api-us1.com. Only
     * ActiveCampaign's hosts are reached (checked when saved, with the address rules); changing it needs
     * the token again, so the token never follows a host somewhere else.
     */
    apiUrl: z.url({ protocol: /^https$/, error: 'the https API URL from Settings > Developer, e.g. https://account.api-us1.com' }).max(253),
    /** A list to subscribe new contacts to (Lists > the list's id). */
    listId: id.optional(),
    /** Our sequence names -> automation ids (Automations > the automation's id). */
    automations: z.record(z.string().min(1), id).default({}),
    /** Our merge-field names -> custom field ids (Contacts > Fields). */
    fieldIds: z.record(z.string().min(1), id).default({}),
  })
  .strict();

export const activecampaign: ProviderEntry<'email', typeof credentialsSchema, typeof settingsSchema> = {
  id: 'activecampaign',
  category: 'email',
  displayName: 'ActiveCampaign',
  auth: 'api-key',
  credentialsSchema,
  settingsSchema,
  hosts: ACTIVECAMPAIGN_HOSTS,
  accountUrl: (_credentials, settings) => settings.apiUrl,
  // 5 requests per second per account, shared by every key in it (https://developers.activecampaign.com/reference/rate-limits).
  ratePerSecond: 5,
  docsUrl: 'https://developers.activecampaign.com/reference/rate-limits',
  create: (ctx) => createActiveCampaignClient(ctx),
};
