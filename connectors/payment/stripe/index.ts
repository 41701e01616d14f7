import { z } from 'zod';
import type { ProviderEntry } from '../../registry-types';
import { createStripeClient, STRIPE_HOSTS } from './client';
import { stripeStoredFields } from './mapping';

const credentialsSchema = z
  .object({
    /** A secret (sk_) or, better, restricted (rk_) key with Customers write access. */
    secretKey: z.string().regex(/^(sk|rk)_(live|test)_\w+$/, 'a Stripe secret or restricted key (sk_… or rk_…)'),
    /** The signing secret of the webhook endpoint that posts to /api/webhooks/stripe/{integrationId}. */
    webhookSecret: z.string().regex(/^whsec_\w+$/, "a webhook endpoint's signing secret (whsec_…)").optional(),
  })
  .strict();

/** Nothing to set: every account is on https://api.stripe.com. */
const settingsSchema = z.object({}).strict();

export const stripe: ProviderEntry<'payment', typeof credentialsSchema, typeof settingsSchema> = {
  id: 'stripe',
  category: 'payment',
  displayName: 'Stripe',
  auth: 'api-key',
  credentialsSchema,
  settingsSchema,
  hosts: STRIPE_HOSTS,
  // Live mode allows 100 operations/s per account, but each endpoint defaults to 25/s and every call this
  // connector makes goes to /v1/customers; sandboxes allow 25/s overall. https://docs.stripe.com/rate-limits
  ratePerSecond: 25,
  readable: true,
  storedForm: stripeStoredFields,
  docsUrl: 'https://docs.stripe.com/rate-limits',
  create: (ctx) => createStripeClient({ ...ctx, settings: {} }),
};
