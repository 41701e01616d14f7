import { z } from 'zod';
import { endpoint } from '../../../endpoint';
import { presentSubscription, SubscriptionView } from '../views';

export const listSubscriptions = endpoint({
  operationId: 'listWebhookSubscriptions',
  method: 'get',
  path: '/api/webhooks/subscriptions',
  tag: 'Webhooks',
  summary: "The organisation's outbound webhook subscriptions",
  access: 'admin',
  responses: { 200: { description: 'The subscriptions, oldest first', json: z.strictObject({ subscriptions: z.array(SubscriptionView) }) } },
  errors: [],
}).handle(async ({ auth }, { subscriptions }) => {
  const rows = await subscriptions.list(auth);
  return { status: 200, body: { subscriptions: rows.map(presentSubscription) } };
});
