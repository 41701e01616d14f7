import { ApplicationFailure, isCancellation, proxyLocalActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DeliveryResult } from '../activities/deliver';
import { assertCanonicalUuids } from '../domain/ids';
import { deathReason, deliverThroughBreaker, deliverySummary } from './deliveries';
import { DEFAULT_OUTAGE_MAX_WAIT_MS, untilDatabaseAnswers } from './outage';
import { deadLetter } from './tour-lifecycle/lanes';

export interface ReplayDeliveryInput {
  deliveryId: string;
  /** How long the replay waits out a Postgres outage (DB_OUTAGE_MAX_WAIT; default 6 h). */
  dbOutageMaxWaitMs?: number;
}

/** Workflow id of a delivery's replay: one at a time per delivery, however often an operator asks. */
export function replayWorkflowId(deliveryId: string): string {
  // Another spelling of the id would be a second replay racing the first.
  assertCanonicalUuids('replayWorkflowId', { deliveryId });
  return `delivery-replay:${deliveryId}`;
}

const { loadReplay } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/**
 * An operator's replay of one dead delivery: the planned call, opened from its row, sent again on the
 * provider's queue with the same idempotency key and retry policy, so a provider that did receive it
 * the first time sees a duplicate it ignores, never a second action.
 */
export async function replayDelivery(input: ReplayDeliveryInput): Promise<DeliveryResult> {
  const outageMaxWaitMs = input.dbOutageMaxWaitMs ?? DEFAULT_OUTAGE_MAX_WAIT_MS;
  const { delivery, retry } = await untilDatabaseAnswers('loading the delivery', () => loadReplay({ deliveryId: input.deliveryId }), {
    maxWaitMs: outageMaxWaitMs,
    waiting: (reason) => setCurrentDetails(reason ? `**Waiting for Postgres:** ${reason}` : ''),
  });
  try {
    return await deliverThroughBreaker(delivery, retry);
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = deathReason(err);
    await deadLetter(outageMaxWaitMs)({ idempotencyKey: delivery.idempotencyKey, integrationId: delivery.integrationId, error: `replay ${workflowInfo().runId}: ${reason}` });
    throw ApplicationFailure.nonRetryable(`Replay of ${deliverySummary(delivery)} failed: ${reason}`, 'replay_failed');
  }
}
