import { z } from 'zod';
import type { ProviderEntry } from '../../registry-types';
import { createBirdClient } from './client';
import { BIRD_HOSTS } from './mapping';

const uuid = z.uuid({ error: 'a Bird id (a UUID, from the workspace or channel URL)' });

const credentialsSchema = z
  .object({
    /** Settings > Security > Access keys: a key whose role may send on the channel. */
    accessKey: z.string().trim().min(20, 'a Bird access key'),
  })
  .strict();

const settingsSchema = z
  .object({
    workspaceId: uuid,
    /** The installed SMS channel (Developer > Channels). */
    channelId: uuid,
  })
  .strict();

export const bird: ProviderEntry<'sms', typeof credentialsSchema, typeof settingsSchema> = {
  id: 'bird',
  category: 'sms',
  displayName: 'Bird (formerly MessageBird)',
  auth: 'api-key',
  credentialsSchema,
  settingsSchema,
  hosts: BIRD_HOSTS,
  // POST requests are limited to 500 a second per workspace; carrier throughput beyond that is Bird's
  // to buffer (https://docs.bird.com/api/channels-api/rate-limit). We stay well below: 50.
  ratePerSecond: 50,
  docsUrl: 'https://docs.bird.com/api/channels-api/rate-limit',
  create: (ctx) => createBirdClient(ctx),
};
