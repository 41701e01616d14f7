import { z } from 'zod';
import type { ProviderEntry } from '../../registry-types';
import { createSquareClient } from './client';
import { SQUARE_HOSTS } from './mapping';

const credentialsSchema = z
  .object({
    /** Developer Console > the application > Credentials: a personal access token (EAAA…) with CUSTOMERS_READ and CUSTOMERS_WRITE. */
    accessToken: z.string().trim().regex(/^E[A-Za-z0-9_-]{20,}$/, 'a Square access token (EAAA…)'),
  })
  .strict();

const settingsSchema = z
  .object({
    environment: z.enum(['production', 'sandbox']).default('production'),
  })
  .strict();

export const square: ProviderEntry<'payment', typeof credentialsSchema, typeof settingsSchema> = {
  id: 'square',
  category: 'payment',
  displayName: 'Square',
  auth: 'api-key',
  credentialsSchema,
  settingsSchema,
  hosts: SQUARE_HOSTS,
  // Square publishes no number: it answers 429 RATE_LIMITED past an undisclosed per-application limit
  // (https://developer.squareup.com/docs/build-basics/rate-limits). 10 a second; README "Assumptions to verify".
  ratePerSecond: 10,
  docsUrl: 'https://developer.squareup.com/docs/build-basics/rate-limits',
  create: (ctx) => createSquareClient(ctx),
};
