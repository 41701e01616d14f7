import { endpoint, refused } from '../../../endpoint';
import { header, IntegrationPath, ProviderReceiptView } from './shared';

export const receiveStripeEvent = endpoint({
  operationId: 'receiveStripeEvent',
  method: 'post',
  path: '/api/webhooks/stripe/{integrationId}',
  tag: 'Webhooks',
  summary: "Stripe's events for a Stripe integration (its webhook endpoint's URL)",
  description:
    "No bearer token: `Stripe-Signature`, checked by the Stripe SDK's `webhooks.constructEvent` on the raw body with the integration's endpoint secret (`credentials.webhookSecret`), within 5 minutes, is the proof. A payment (`invoice.paid`, `payment_intent.succeeded`, `checkout.session.completed`, and their failures) is recorded on the delivery that created the customer (`provider_status`). Each event is stored once, by its id.",
  access: 'public',
  params: IntegrationPath,
  raw: { contentTypes: ['application/json'], limit: '1mb', headers: { 'stripe-signature': '`t=…,v1=…` as Stripe signs' } },
  responses: { 200: { description: 'Received (or a duplicate)', json: ProviderReceiptView } },
  errors: ['not_found', 'invalid_signature'],
}).handle(async ({ params, request }, { inbound }) => {
  const r = await inbound.providers.stripe(params.integrationId, request.raw, header(request.headers, 'stripe-signature'));
  if (!r.ok) return refused(r.refusal);
  return { status: 200, body: { received: true, event_id: r.value.eventId, duplicate: r.value.duplicate, deliveries_updated: r.value.updated } };
});
