import { z } from 'zod';
import { WORKFLOW_SERVICE_ERROR_CODES } from '../../../../services/temporal';
import { endpoint, refused } from '../../../endpoint';
import { IntegrationPath, PushReceiptView } from './shared';

export const receiveGraphNotification = endpoint({
  operationId: 'receiveGraphNotification',
  method: 'post',
  path: '/api/webhooks/microsoft-graph/{integrationId}',
  tag: 'Webhooks',
  summary: 'Microsoft Graph change notifications of an Outlook Calendar integration (its subscription)',
  description:
    "No bearer token. With `?validationToken=…` (Graph checking the URL when a subscription is made) the token is echoed as `text/plain`. Otherwise every notification's `clientState` must match an active subscription of this integration (made and renewed by its `pushChannel` workflow), or the request is refused unrecorded; each is stored once and the integration's sync workflow is started or signalled.",
  access: 'public',
  params: IntegrationPath,
  query: z.strictObject({ validationToken: z.string().min(1).max(1024).optional().describe("Graph's validation handshake") }),
  raw: { contentTypes: ['application/json', 'text/plain'], limit: '1mb' },
  responses: {
    200: { description: 'The validation token, echoed', content: ['text/plain'] },
    202: { description: 'Accepted (or a duplicate)', json: PushReceiptView },
  },
  errors: ['not_found', 'invalid_signature', ...WORKFLOW_SERVICE_ERROR_CODES],
}).handle(async ({ params, query, request }, { inbound }) => {
  if (query.validationToken !== undefined) {
    const echoed = await inbound.calendars.graphValidation(params.integrationId, query.validationToken);
    if (!echoed.ok) return refused(echoed.refusal);
    return { status: 200, text: echoed.value, type: 'text/plain' };
  }
  const r = await inbound.calendars.graph(params.integrationId, request.raw);
  if (!r.ok) return refused(r.refusal);
  return { status: 202, body: { received: r.value.received, duplicate: r.value.duplicate, sync_requested: r.value.syncRequested } };
});
