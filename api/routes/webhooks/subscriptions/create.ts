import { z } from 'zod';
import { endpoint, refused } from '../../../endpoint';
import { presentSubscription, SubscriptionWithSecret } from '../views';

export const subscriptionUrl = z.url({ protocol: /^https$/, message: 'an https:// URL' }).max(2000);
export const eventFilter = z.array(z.string().min(1).max(100)).min(1).max(50).describe('Event types (`tour.completed`), groups (`tour.*`) or `*`; see GET /api/webhooks/event-types');

export const createSubscription = endpoint({
  operationId: 'createWebhookSubscription',
  method: 'post',
  path: '/api/webhooks/subscriptions',
  tag: 'Webhooks',
  summary: 'Subscribe an https URL to tour and integration events',
  description:
    "The URL must be https and reach a public address: it is checked when saved (422 `outbound_address_forbidden`, with the rule, for a loopback, private, link-local or metadata address) and again on every delivery, after DNS. The answer carries the signing secret (`whsec_…`, Standard Webhooks) this once. Deliveries are POSTed with `webhook-id`, `webhook-timestamp` and `webhook-signature`, retried with backoff for `WEBHOOK_RETRY_MAX_TIME` (3 days by default), in order per tour.",
  access: 'admin',
  body: z.strictObject({ url: subscriptionUrl, events: eventFilter.default(['*']), description: z.string().max(200).nullable().optional() }),
  responses: { 201: { description: 'Subscribed', json: SubscriptionWithSecret } },
  errors: ['outbound_address_forbidden', 'unknown_event_type'],
}).handle(async ({ body, auth }, { subscriptions }) => {
  const made = await subscriptions.create(auth, { url: body.url, events: body.events, ...(body.description !== undefined ? { description: body.description } : {}) });
  if (!made.ok) return refused(made.refusal);
  return { status: 201, body: { subscription: presentSubscription(made.value.subscription), secret: made.value.secret } };
});
