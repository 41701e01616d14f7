import { ApplicationFailure, isCancellation, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DeliveryResult } from '../activities/deliver';
import { deathReason, deliverThroughBreaker, deliverySummary } from './deliveries';

export interface ReplayDeliveryInput {
  deliveryId: string;
}

/** Workflow id of a delivery's replay: one at a time per delivery, however often an operator asks. */
export function replayWorkflowId(deliveryId: string): string {
  return `delivery-replay:${deliveryId}`;
}

const { loadReplay, markDeliveryDead } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/**
 * An operator's replay of one dead delivery: the planned call, opened from its row, sent again on the
 * provider's queue with the same idempotency key and retry policy, so a provider that did receive it
 * the first time sees a duplicate it ignores, never a second action.
 */
export async function replayDelivery(input: ReplayDeliveryInput): Promise<DeliveryResult> {
  const { delivery, retry } = await loadReplay(input);
  try {
    return await deliverThroughBreaker(delivery, retry);
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = deathReason(err);
    await markDeliveryDead({ idempotencyKey: delivery.idempotencyKey, integrationId: delivery.integrationId, error: `replay ${workflowInfo().runId}: ${reason}` });
    throw ApplicationFailure.nonRetryable(`Replay of ${deliverySummary(delivery)} failed: ${reason}`, 'replay_failed');
  }
}
