import { z } from 'zod';
import type { ProviderEntry } from '../../registry-types';
import { createPayPalClient } from './client';
import { PAYPAL_HOSTS } from './mapping';

const credentialsSchema = z
  .object({
    /** developer.paypal.com > Apps & Credentials: the REST app's client id and secret. */
    clientId: z.string().trim().min(10),
    clientSecret: z.string().trim().min(10),
  })
  .strict();

const settingsSchema = z
  .object({
    environment: z.enum(['live', 'sandbox']).default('live'),
    /** Our plan names -> PayPal billing plan ids (Subscriptions > plans). */
    plans: z.record(z.string().min(1).max(50), z.string().regex(/^P-[A-Z0-9]{10,}$/, 'a PayPal plan id (P-…)')).default({}),
  })
  .strict();

export const paypal: ProviderEntry<'payment', typeof credentialsSchema, typeof settingsSchema> = {
  id: 'paypal',
  category: 'payment',
  displayName: 'PayPal',
  auth: 'api-key',
  credentialsSchema,
  settingsSchema,
  hosts: PAYPAL_HOSTS,
  // PayPal publishes no number: it answers 429 RATE_LIMIT_REACHED past an undisclosed limit
  // (https://developer.paypal.com/api/rest/reference/rate-limiting/). 10 a second; README "Assumptions to verify".
  ratePerSecond: 10,
  docsUrl: 'https://developer.paypal.com/api/rest/reference/rate-limiting/',
  create: (ctx) => createPayPalClient(ctx),
};
