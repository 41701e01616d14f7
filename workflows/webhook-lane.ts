import { ActivityFailure, ApplicationFailure, condition, continueAsNew, isCancellation, proxyActivities, proxyLocalActivities, setHandler, TimeoutFailure, workflowInfo } from '@temporalio/workflow';
import type { WebhookActivities } from '../activities/webhooks';
import { webhookQueuedSignal, type WebhookLaneInput } from './webhook-messages';

const { nextWebhookDelivery, markWebhookFailed } = proxyLocalActivities<WebhookActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Deliveries per run before continue-as-new: each adds a handful of events, far below any limit. */
const DELIVERIES_PER_RUN = 200;

/**
 * One subscription's deliveries of one ordering key (one tour run), in outbox order: each is sent and
 * retried with backoff until it succeeds or its time (WEBHOOK_RETRY_MAX_TIME, at least 24 h) runs out;
 * only then does the next go. A subscription paused for failing stops the lane (its deliveries stay
 * pending until it is resumed). Woken by `webhookQueued`; closes after `lingerMs` with nothing to do.
 */
export async function webhookLane(input: WebhookLaneInput): Promise<void> {
  let woken = false;
  setHandler(webhookQueuedSignal, () => {
    woken = true;
  });
  const { retry } = input;
  const { sendWebhook } = proxyActivities<WebhookActivities>({
    startToCloseTimeout: retry.attemptTimeoutMs,
    scheduleToCloseTimeout: retry.maximumTimeMs,
    retry: {
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumIntervalMs,
      nonRetryableErrorTypes: [],
    },
    summary: `webhook to subscription ${input.subscriptionId}`,
  });
  const lane = { subscriptionId: input.subscriptionId, orderingKey: input.orderingKey };
  let sent = 0;
  for (;;) {
    woken = false;
    const next = await nextWebhookDelivery(lane);
    if (next.kind === 'paused' || next.kind === 'gone') return;
    if (next.kind === 'delivery') {
      try {
        const outcome = await sendWebhook({ deliveryId: next.deliveryId });
        if (outcome === 'paused' || outcome === 'gone') return;
      } catch (err) {
        if (isCancellation(err)) throw err;
        await markWebhookFailed({ deliveryId: next.deliveryId, reason: failure(err) });
      }
      if (++sent >= DELIVERIES_PER_RUN || workflowInfo().continueAsNewSuggested) return continueAsNew<typeof webhookLane>(input);
      continue;
    }
    // Idle: wait for a wake-up; a signal that lands as the run closes is seen, since signals are
    // handled before the timer in the same activation. The relay re-wakes a lane left with work.
    if (!(await condition(() => woken, input.lingerMs)) && !woken) return;
  }
}

function failure(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure) return 'ran out of time (WEBHOOK_RETRY_MAX_TIME) while retrying';
  if (cause instanceof ApplicationFailure) return cause.message;
  return cause instanceof Error ? cause.message : String(cause);
}
