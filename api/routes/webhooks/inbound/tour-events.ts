import { z } from 'zod';
import { TRANSITION_ERROR_CODES } from '../../../../domain/tour-state';
import { TourEventBody } from '../../../../services/inbound/tour-events';
import { WORKFLOW_SERVICE_ERROR_CODES } from '../../../../services/temporal';
import { SIGNATURE_TOLERANCE_SECONDS } from '../../../../services/webhook-signatures';
import { endpoint, refused } from '../../../endpoint';
import { named } from '../../../openapi';
import { timestamp } from '../../shared';
import { presentProgress, ProgressView } from '../../tours/views';
import { header } from './shared';

const SIGNATURE_HEADER = 'x-wedsync-signature';

export const receiveTourEvent = endpoint({
  operationId: 'receiveTourEvent',
  method: 'post',
  path: '/api/webhooks/tour-events',
  tag: 'Webhooks',
  summary: "A tour event from the organisation's backend (seed 001), signed with its signing secret",
  description: `No bearer token: \`${SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">\` with one of the organisation's signing secrets (\`POST /api/webhooks/signing-secrets\`) is the proof, within ${SIGNATURE_TOLERANCE_SECONDS / 60} minutes of our clock. The event is stored (unique per organisation and \`event_id\`) and handed to the tour's workflow before the answer: \`tour_started\` starts the tour, \`step_completed\` is \`next_step\`, \`step_skipped\` \`skip_step\`, \`tour_completed\` \`complete_tour\` (with \`data.rating\`, \`data.feedback\`, \`data.was_helpful\`), \`tour_abandoned\` \`abandon_tour\`. A copy of an event already received is answered 200 with \`duplicate: true\` and changes nothing; a move the tour refuses is answered with its code and nothing is kept.`,
  access: 'public',
  raw: {
    contentTypes: ['application/json'],
    limit: '64kb',
    schema: TourEventBody,
    headers: { [SIGNATURE_HEADER]: '`t=<unix seconds>,v1=<hex HMAC-SHA256>`; several v1 entries may be sent' },
  },
  responses: {
    200: {
      description: 'Received and applied (or a duplicate of one that was)',
      json: named(
        'TourEventReceipt',
        z.strictObject({
          received: z.literal(true),
          event_id: z.string(),
          duplicate: z.boolean(),
          processed_at: timestamp,
          progress: ProgressView.nullable().describe('The progress after the move; null for a duplicate'),
        }),
      ),
    },
  },
  errors: ['invalid_signature', 'malformed_json', 'validation_error', 'unsupported_tour_event', 'not_found', 'not_your_progress', 'prerequisites_missing', ...TRANSITION_ERROR_CODES, ...WORKFLOW_SERVICE_ERROR_CODES],
}).handle(async ({ request }, { inbound }) => {
  const received = await inbound.tourEvents.receive(request.raw, header(request.headers, SIGNATURE_HEADER));
  if (!received.ok) return refused(received.refusal);
  const { eventId, duplicate, state } = received.value;
  return {
    status: 200,
    body: { received: true, event_id: eventId, duplicate, processed_at: new Date().toISOString(), progress: state ? presentProgress(state) : null },
  };
});

export const tourEventsHealth = endpoint({
  operationId: 'tourEventsHealth',
  method: 'get',
  path: '/api/webhooks/tour-events',
  tag: 'Webhooks',
  summary: "The seed's health check of the tour-event receiver",
  access: 'public',
  responses: {
    200: {
      description: 'Up',
      json: z.strictObject({ status: z.literal('healthy'), service: z.literal('tour-webhook-processor'), timestamp }),
    },
  },
  errors: [],
}).handle(async () => ({ status: 200, body: { status: 'healthy', service: 'tour-webhook-processor', timestamp: new Date().toISOString() } }));
