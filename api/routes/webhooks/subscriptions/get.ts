import { z } from 'zod';
import { endpoint, refused } from '../../../endpoint';
import { presentSubscription, SubscriptionParams, SubscriptionView } from '../views';

export const getSubscription = endpoint({
  operationId: 'getWebhookSubscription',
  method: 'get',
  path: '/api/webhooks/subscriptions/{id}',
  tag: 'Webhooks',
  summary: 'One subscription',
  access: 'admin',
  params: SubscriptionParams,
  responses: { 200: { description: 'The subscription', json: z.strictObject({ subscription: SubscriptionView }) } },
  errors: ['not_found'],
}).handle(async ({ params, auth }, { subscriptions }) => {
  const found = await subscriptions.get(auth, params.id);
  if (!found.ok) return refused(found.refusal);
  return { status: 200, body: { subscription: presentSubscription(found.value) } };
});
