import { z } from 'zod';
import type { SigningSecretView as SigningSecretRow } from '../../../db/repositories/signing-secrets';
import type { AttemptRow, DeliveryListItem, SubscriptionRow } from '../../../db/repositories/webhook-subscriptions';
import { named } from '../../openapi';
import { iso, timestamp, canonicalUuid } from '../shared';

export const SubscriptionParams = z.strictObject({ id: canonicalUuid() });
export const DeliveryParams = z.strictObject({ id: canonicalUuid(), deliveryId: canonicalUuid() });

/** Hours a replaced secret keeps working: 0 ends it now; default WEBHOOK_SECRET_GRACE. */
export const gracePeriodHours = z.number().int().min(0).max(720).optional().describe('How long the replaced secret keeps working, 0 to 720 hours; default `WEBHOOK_SECRET_GRACE`');

export const SubscriptionView = named(
  'WebhookSubscription',
  z.strictObject({
    id: canonicalUuid(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()).describe('Event types, `group.*` or `*`'),
    status: z.enum(['active', 'paused']),
    paused_at: timestamp.nullable(),
    paused_reason: z.string().nullable(),
    failing_since: timestamp.nullable().describe('Since when every attempt has failed; null once one succeeds'),
    consecutive_failures: z.number().int().min(0),
    previous_secret_expires_at: timestamp.nullable().describe('Until then deliveries carry a second signature, made with the replaced secret'),
    created_at: timestamp,
    updated_at: timestamp,
  }),
);

export function presentSubscription(s: SubscriptionRow): z.input<typeof SubscriptionView> {
  const previous = s.previous_secret_expires_at && s.previous_secret_expires_at.getTime() > Date.now() ? s.previous_secret_expires_at : null;
  return {
    id: s.id,
    url: s.url,
    description: s.description,
    events: s.event_types,
    status: s.status,
    paused_at: iso(s.paused_at),
    paused_reason: s.paused_reason,
    failing_since: iso(s.failing_since),
    consecutive_failures: s.consecutive_failures,
    previous_secret_expires_at: iso(previous),
    created_at: iso(s.created_at),
    updated_at: iso(s.updated_at),
  };
}

export const SubscriptionWithSecret = named(
  'WebhookSubscriptionWithSecret',
  z.strictObject({
    subscription: SubscriptionView,
    secret: z.string().describe('`whsec_…`: verify deliveries with it (Standard Webhooks). Shown this once'),
  }),
);

export const WebhookDeliveryView = named(
  'WebhookDelivery',
  z.strictObject({
    id: canonicalUuid(),
    subscription_id: canonicalUuid(),
    event_id: canonicalUuid().describe('The `webhook-id` header: the same on every attempt and resend'),
    event_type: z.string(),
    ordering_key: z.string().describe('Deliveries with the same key arrive in order (a tour run)'),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.number().int().min(0),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
    delivered_at: timestamp.nullable(),
  }),
);

export function presentDelivery(d: DeliveryListItem): z.input<typeof WebhookDeliveryView> {
  return {
    id: d.id,
    subscription_id: d.subscription_id,
    event_id: d.event_id,
    event_type: d.event_type,
    ordering_key: d.ordering_key,
    status: d.status,
    attempts: d.attempts,
    last_status_code: d.last_status_code,
    last_error: d.last_error,
    created_at: iso(d.created_at),
    updated_at: iso(d.updated_at),
    delivered_at: iso(d.delivered_at),
  };
}

export const AttemptView = named(
  'WebhookAttempt',
  z.strictObject({
    attempt: z.number().int().min(1),
    success: z.boolean(),
    status_code: z.number().int().nullable(),
    error: z.string().nullable(),
    response_excerpt: z.string().nullable().describe("The first 500 characters of the receiver's answer"),
    duration_ms: z.number().int().min(0),
    attempted_at: timestamp,
  }),
);

export function presentAttempt(a: AttemptRow): z.input<typeof AttemptView> {
  return {
    attempt: a.attempt,
    success: a.success,
    status_code: a.status_code,
    error: a.error,
    response_excerpt: a.response_excerpt,
    duration_ms: a.duration_ms,
    attempted_at: iso(a.attempted_at),
  };
}

export const SigningSecretView = named(
  'SigningSecret',
  z.strictObject({
    id: canonicalUuid(),
    created_at: timestamp,
    expires_at: timestamp.nullable().describe('Null for the current secret; a replaced one works until then'),
  }),
);

export function presentSigningSecret(s: SigningSecretRow): z.input<typeof SigningSecretView> {
  return { id: s.id, created_at: iso(s.created_at), expires_at: iso(s.expires_at) };
}
