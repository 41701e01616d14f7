import { z } from 'zod';
import { endpoint, refused } from '../../../endpoint';
import { gracePeriodHours, presentSubscription, SubscriptionParams, SubscriptionWithSecret } from '../views';

export const rotateSubscriptionSecret = endpoint({
  operationId: 'rotateWebhookSecret',
  method: 'post',
  path: '/api/webhooks/subscriptions/{id}/rotate-secret',
  tag: 'Webhooks',
  summary: "A new signing secret for the subscription's deliveries",
  description: 'Until the grace period ends, every delivery carries two signatures in `webhook-signature` (new and old secret), so the receiver can switch at its own pace.',
  access: 'admin',
  params: SubscriptionParams,
  body: z.strictObject({ grace_period_hours: gracePeriodHours }),
  responses: { 200: { description: 'Rotated', json: SubscriptionWithSecret } },
  errors: ['not_found'],
}).handle(async ({ params, body, auth }, { subscriptions }) => {
  const rotated = await subscriptions.rotateSecret(auth, params.id, body.grace_period_hours !== undefined ? body.grace_period_hours * 3600_000 : undefined);
  if (!rotated.ok) return refused(rotated.refusal);
  return { status: 200, body: { subscription: presentSubscription(rotated.value.subscription), secret: rotated.value.secret } };
});
