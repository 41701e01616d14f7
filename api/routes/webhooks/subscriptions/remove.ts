import { endpoint, refused } from '../../../endpoint';
import { SubscriptionParams } from '../views';

export const deleteSubscription = endpoint({
  operationId: 'deleteWebhookSubscription',
  method: 'delete',
  path: '/api/webhooks/subscriptions/{id}',
  tag: 'Webhooks',
  summary: 'Unsubscribe: nothing more is sent, pending deliveries included',
  access: 'admin',
  params: SubscriptionParams,
  responses: { 204: { description: 'Deleted' } },
  errors: ['not_found'],
}).handle(async ({ params, auth }, { subscriptions }) => {
  const removed = await subscriptions.remove(auth, params.id);
  if (!removed.ok) return refused(removed.refusal);
  return { status: 204 };
});
