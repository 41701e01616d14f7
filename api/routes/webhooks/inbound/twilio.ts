import { endpoint, refused } from '../../../endpoint';
import { header, IntegrationPath, ProviderReceiptView } from './shared';

export const receiveTwilioStatus = endpoint({
  operationId: 'receiveTwilioStatus',
  method: 'post',
  path: '/api/webhooks/twilio/{integrationId}',
  tag: 'Webhooks',
  summary: "Twilio's message status callbacks for a Twilio integration (its `statusCallbackUrl`)",
  description:
    "No bearer token: `X-Twilio-Signature`, checked by the Twilio SDK's `validateRequest` with the account's Auth Token over this route's public URL (`PUBLIC_URL` + path and query) and the form's parameters, is the proof. The SMS delivery it names (`MessageSid`) gets its status (`delivered`, `undelivered`, `failed`, ...), which only moves forward.",
  access: 'public',
  params: IntegrationPath,
  raw: { contentTypes: ['application/x-www-form-urlencoded'], limit: '64kb', headers: { 'x-twilio-signature': 'Base64 HMAC-SHA1 as Twilio signs' } },
  responses: { 200: { description: 'Received (or a duplicate)', json: ProviderReceiptView } },
  errors: ['not_found', 'invalid_signature'],
}).handle(async ({ params, request }, { inbound }) => {
  const r = await inbound.providers.twilio(params.integrationId, request.raw, request.originalUrl, header(request.headers, 'x-twilio-signature'));
  if (!r.ok) return refused(r.refusal);
  return { status: 200, body: { received: true, event_id: r.value.eventId, duplicate: r.value.duplicate, deliveries_updated: r.value.updated } };
});
