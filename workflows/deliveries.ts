/**
 * How a workflow runs one planned provider call: on the provider's own task queue, with the configured
 * retry policy and a summary the Temporal UI shows on the activity. Shared by the tour workflow and the
 * operator's replay, so both send the same call the same way.
 */
import { ActivityFailure, ApplicationFailure, patched, proxyActivities, TimeoutFailure } from '@temporalio/workflow';
import type { createDeliveryActivities, DeliveryResult } from '../activities/deliver';
import type { DeliveryRetry, PlannedDelivery } from '../domain/hub';
import { providerTaskQueue } from './task-queues';

type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;

/** "honeybook: crm.createTask for tour_completed": what an operator reads in the event history. */
export function deliverySummary(d: PlannedDelivery): string {
  return `${d.provider}: ${d.action.category}.${d.action.method} for ${d.eventType}`;
}

/**
 * Before this patch provider calls carried no fairness key, so one organisation's burst on a provider
 * queue delayed every other organisation's calls behind it.
 */
export const FAIRNESS_PATCH = 'provider-call-fairness-key';

export function runDelivery(d: PlannedDelivery, retry: DeliveryRetry): Promise<DeliveryResult> {
  const { deliver } = proxyActivities<DeliveryActivities>({
    taskQueue: providerTaskQueue(d.provider),
    // The provider's published limit is per account, so it applies per integration: the queue gives each
    // integration its own virtual queue and rate (worker.ts configures the per-key limit), and one
    // organisation's backlog cannot hold another's calls back.
    ...(patched(FAIRNESS_PATCH) ? { priority: { fairnessKey: d.integrationId } } : {}),
    // One attempt: the connector's own timeouts plus our database writes. It is also how long a call
    // in flight on a worker that died waits before it is retried elsewhere.
    startToCloseTimeout: retry.attemptTimeoutMs,
    // A slow call heartbeats (activities/deliver.ts): an attempt lost with its worker is retried after this.
    heartbeatTimeout: '10 seconds',
    // The whole delivery, retries included: past this it is dead and waits for a replay.
    scheduleToCloseTimeout: retry.maximumTimeMs,
    retry: {
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumIntervalMs,
      maximumAttempts: retry.maximumAttempts,
    },
    summary: deliverySummary(d),
  });
  return deliver({
    workflowId: d.workflowId,
    eventId: d.eventId,
    eventType: d.eventType,
    integrationId: d.integrationId,
    idempotencyKey: d.idempotencyKey,
    action: d.action,
  });
}

/**
 * Why a delivery died, as a code the workflow's details can show (the failure's type, or the time
 * limit): a provider's message can quote whom the call was about, and details are not encrypted for
 * whoever reads the UI without the codec.
 */
export function deathCode(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return cause.type ?? 'error';
  if (cause instanceof TimeoutFailure) return 'timed_out';
  return 'error';
}

/** Why a delivery died, in one line for the dead letter (Postgres): the provider's error, or the time limit. */
export function deathReason(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'error'}: ${cause.message}`;
  if (cause instanceof TimeoutFailure) return "ran out of time (HUB_RETRY_MAX_TIME) while retrying";
  return cause instanceof Error ? cause.message : String(cause);
}
