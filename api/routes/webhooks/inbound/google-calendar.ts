import { WORKFLOW_SERVICE_ERROR_CODES } from '../../../../services/temporal';
import { endpoint, refused } from '../../../endpoint';
import { IntegrationPath, PushReceiptView } from './shared';

export const receiveGoogleCalendarPush = endpoint({
  operationId: 'receiveGoogleCalendarPush',
  method: 'post',
  path: '/api/webhooks/google-calendar/{integrationId}',
  tag: 'Webhooks',
  summary: 'Google Calendar push notifications of a Google Calendar integration (its watch channel)',
  description:
    "No bearer token: the channel id and token Google echoes (`X-Goog-Channel-ID`, `X-Goog-Channel-Token`) must name an active channel of this integration (made and renewed by its `pushChannel` workflow). Each notification is stored once (channel and message number); any but the channel's first (`sync`) starts or signals the integration's sync workflow.",
  access: 'public',
  params: IntegrationPath,
  raw: {
    contentTypes: ['application/json'],
    limit: '64kb',
    headers: {
      'x-goog-channel-id': 'The channel',
      'x-goog-channel-token': 'The token we gave the channel',
      'x-goog-resource-state': '`sync`, `exists` or `not_exists`',
      'x-goog-resource-id': "Google's id of the watched resource",
      'x-goog-message-number': 'Increasing per channel',
    },
  },
  responses: { 200: { description: 'Received (or a duplicate)', json: PushReceiptView } },
  errors: ['not_found', 'invalid_signature', ...WORKFLOW_SERVICE_ERROR_CODES],
}).handle(async ({ params, request }, { inbound }) => {
  const r = await inbound.calendars.google(params.integrationId, request.headers);
  if (!r.ok) return refused(r.refusal);
  return { status: 200, body: { received: r.value.received, duplicate: r.value.duplicate, sync_requested: r.value.syncRequested } };
});
