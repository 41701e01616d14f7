import { z } from 'zod';
import { endpoint, refused } from '../../../endpoint';
import { limitQuery, canonicalUuid } from '../../shared';
import { AttemptView, DeliveryParams, presentAttempt, presentDelivery, SubscriptionParams, WebhookDeliveryView } from '../views';

export const listSubscriptionDeliveries = endpoint({
  operationId: 'listWebhookDeliveries',
  method: 'get',
  path: '/api/webhooks/subscriptions/{id}/deliveries',
  tag: 'Webhooks',
  summary: "The subscription's deliveries, newest first",
  access: 'admin',
  params: SubscriptionParams,
  query: z.strictObject({
    limit: limitQuery(200, 50).describe('1 to 200, default 50'),
    cursor: canonicalUuid().optional().describe("The previous page's next_cursor"),
  }),
  responses: {
    200: {
      description: 'A page of deliveries',
      json: z.strictObject({ deliveries: z.array(WebhookDeliveryView), next_cursor: canonicalUuid().nullable().describe('Pass as `cursor` for the next page; null on the last') }),
    },
  },
  errors: ['not_found'],
}).handle(async ({ params, query, auth }, { subscriptions }) => {
  const page = await subscriptions.deliveries(auth, params.id, { limit: query.limit, ...(query.cursor ? { beforeId: query.cursor.toLowerCase() } : {}) });
  if (!page.ok) return refused(page.refusal);
  const rows = page.value;
  return { status: 200, body: { deliveries: rows.map(presentDelivery), next_cursor: rows.length === query.limit ? rows.at(-1)!.id : null } };
});

export const getSubscriptionDelivery = endpoint({
  operationId: 'getWebhookDelivery',
  method: 'get',
  path: '/api/webhooks/subscriptions/{id}/deliveries/{deliveryId}',
  tag: 'Webhooks',
  summary: 'One delivery and every attempt at it',
  access: 'admin',
  params: DeliveryParams,
  responses: { 200: { description: 'The delivery and its attempts, first to last', json: z.strictObject({ delivery: WebhookDeliveryView, attempts: z.array(AttemptView) }) } },
  errors: ['not_found'],
}).handle(async ({ params, auth }, { subscriptions }) => {
  const found = await subscriptions.attempts(auth, params.id, params.deliveryId);
  if (!found.ok) return refused(found.refusal);
  return { status: 200, body: { delivery: presentDelivery(found.value.delivery), attempts: found.value.attempts.map(presentAttempt) } };
});

export const resendSubscriptionDelivery = endpoint({
  operationId: 'resendWebhookDelivery',
  method: 'post',
  path: '/api/webhooks/subscriptions/{id}/deliveries/{deliveryId}/resend',
  tag: 'Webhooks',
  summary: 'Send a delivery again (same `webhook-id`), whatever its status',
  description: 'It goes back to its lane and is sent within a relay interval, retried like a new one; its attempts keep counting.',
  access: 'admin',
  params: DeliveryParams,
  responses: { 202: { description: 'Queued', json: z.strictObject({ delivery_id: canonicalUuid(), status: z.literal('pending') }) } },
  errors: ['not_found', 'subscription_paused'],
}).handle(async ({ params, auth }, { subscriptions }) => {
  const queued = await subscriptions.resend(auth, params.id, params.deliveryId);
  if (!queued.ok) return refused(queued.refusal);
  return { status: 202, body: { delivery_id: params.deliveryId, status: 'pending' } };
});
