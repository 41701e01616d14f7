import { z } from 'zod';
import { endpoint, refused } from '../../../endpoint';
import { presentSubscription, SubscriptionParams, SubscriptionView } from '../views';
import { eventFilter, subscriptionUrl } from './create';

export const updateSubscription = endpoint({
  operationId: 'updateWebhookSubscription',
  method: 'patch',
  path: '/api/webhooks/subscriptions/{id}',
  tag: 'Webhooks',
  summary: 'Change the URL, the filter or the description, or pause or resume',
  description: 'Resuming (`status: "active"`) clears the failure streak and sends what waited while paused, in order. A new URL is checked like a new subscription\'s.',
  access: 'admin',
  params: SubscriptionParams,
  body: z.strictObject({
    url: subscriptionUrl.optional(),
    events: eventFilter.optional(),
    description: z.string().max(200).nullable().optional(),
    status: z.enum(['active', 'paused']).optional(),
  }),
  responses: { 200: { description: 'Changed', json: z.strictObject({ subscription: SubscriptionView }) } },
  errors: ['not_found', 'outbound_address_forbidden', 'unknown_event_type'],
}).handle(async ({ params, body, auth }, { subscriptions }) => {
  const changed = await subscriptions.update(auth, params.id, {
    ...(body.url !== undefined ? { url: body.url } : {}),
    ...(body.events !== undefined ? { events: body.events } : {}),
    ...(body.description !== undefined ? { description: body.description } : {}),
    ...(body.status !== undefined ? { status: body.status } : {}),
  });
  if (!changed.ok) return refused(changed.refusal);
  return { status: 200, body: { subscription: presentSubscription(changed.value) } };
});
