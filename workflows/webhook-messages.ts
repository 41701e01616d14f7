/**
 * What callers of the outbound-webhook workflows need (the relay starts and wakes them): ids, inputs,
 * signals. Nothing here runs: the workflows are in webhook-lane.ts and push-channel.ts.
 */
import { defineSignal } from '@temporalio/workflow';

export const WEBHOOK_LANE_TYPE = 'webhookLane';

/**
 * One lane per subscription and ordering key (a tour run's workflow id, an integration, the organisation):
 * its deliveries go out one at a time in outbox order, and lanes of different tours run side by side.
 */
export function webhookLaneId(subscriptionId: string, orderingKey: string): string {
  return `webhook-lane:${subscriptionId.toLowerCase()}:${orderingKey}`;
}

/** How a lane retries one delivery (WEBHOOK_RETRY_*). */
export interface WebhookRetry {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** The whole delivery, retries included (at least 24 h): past this it is failed and the lane moves on. */
  maximumTimeMs: number;
  /** One attempt, the call and the log included. */
  attemptTimeoutMs: number;
}

export interface WebhookLaneInput {
  subscriptionId: string;
  orderingKey: string;
  retry: WebhookRetry;
  /** How long an idle lane waits for more before it closes (a later wake-up starts it again). */
  lingerMs: number;
}

/** "Something new in your lane": the lane looks in Postgres, so a repeated or late signal is harmless. */
export const webhookQueuedSignal = defineSignal('webhookQueued');

export const PUSH_CHANNEL_TYPE = 'pushChannel';

/** One per calendar integration: keeps its change-notification channel alive. */
export function pushChannelWorkflowId(integrationId: string): string {
  return `push-channel:${integrationId.toLowerCase()}`;
}

export interface PushChannelInput {
  integrationId: string;
  /** The provider, whose task queue (`provider-{id}`) the channel calls run on. */
  provider: string;
  /** Renew this long before the channel expires. */
  renewBeforeMs: number;
}
