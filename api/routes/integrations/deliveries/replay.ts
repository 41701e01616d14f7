import { z } from 'zod';
import { endpoint, refused } from '../../../endpoint';
import { canonicalUuid } from '../../shared';

export const replayDelivery = endpoint({
  operationId: 'replayDelivery',
  method: 'post',
  path: '/api/integrations/deliveries/{id}/replay',
  tag: 'Deliveries',
  summary: 'Re-send one dead delivery with its original idempotency key',
  description: 'Only a dead delivery: a pending, retrying or running one is refused (409 `delivery_not_dead`), since a replay would race it. Claims the delivery (it shows as pending) and starts the workflow `delivery-replay:{id}`; its outcome lands in the delivery.',
  access: 'admin',
  params: z.strictObject({ id: canonicalUuid() }),
  responses: {
    202: { description: 'The replay is running', json: z.strictObject({ replay: z.strictObject({ delivery_id: canonicalUuid(), workflow_id: z.string() }) }) },
  },
  errors: ['not_found', 'already_delivered', 'delivery_not_dead', 'delivery_not_replayable', 'delivery_skipped', 'integration_disabled', 'temporal_unavailable', 'tour_timeout', 'tour_busy'],
}).handle(async ({ params, auth }, { replays }) => {
  const started = await replays.delivery(auth, params.id);
  if (!started.ok) return refused(started.refusal);
  return { status: 202, body: { replay: { delivery_id: started.value.delivery_id, workflow_id: started.value.workflow_id } } };
});
