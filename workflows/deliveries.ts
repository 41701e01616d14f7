/**
 * How a workflow runs one planned provider call: on the provider's own task queue, with the configured
 * retry policy and a summary the Temporal UI shows on the activity. Shared by the tour workflow and the
 * operator's replay, so both send the same call the same way.
 */
import { ActivityFailure, ApplicationFailure, condition, patched, proxyActivities, TimeoutFailure } from '@temporalio/workflow';
import type { createDeliveryActivities, DeliveryResult } from '../activities/deliver';
import { CIRCUIT_OPEN, waitMs } from '../domain/breaker';
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
  if (cause instanceof HeldBack) return 'held_back';
  if (cause instanceof TimeoutFailure) return 'timed_out';
  return 'error';
}

/** Why a delivery died, in one line for the dead letter (Postgres): the provider's error, or the time limit. */
export function deathReason(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'error'}: ${cause.message}`;
  if (cause instanceof HeldBack) return cause.message;
  if (cause instanceof TimeoutFailure) return "ran out of time (HUB_RETRY_MAX_TIME) while retrying";
  return cause instanceof Error ? cause.message : String(cause);
}

/** The patch that makes a call held back by its integration's breaker wait instead of dying (issue 13). */
export const CIRCUIT_BREAKER_PATCH = 'circuit-breaker';

/** When the breaker held a call back, and until when: the activity's `circuit_open` failure. */
function heldBack(err: unknown): { retryAt: number; probeIntervalMs: number } | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure) || cause.type !== CIRCUIT_OPEN) return undefined;
  const details = (cause.details?.[0] ?? {}) as { retryAt?: unknown; probeIntervalMs?: unknown };
  return {
    retryAt: typeof details.retryAt === 'number' ? details.retryAt : Date.now(),
    probeIntervalMs: typeof details.probeIntervalMs === 'number' ? details.probeIntervalMs : 60_000,
  };
}

/** The lane stopped waiting (the run is rolling over): the call was not made and is carried. */
export class HeldBack extends Error {
  constructor() {
    super('held back by the circuit breaker while the run rolled over');
    this.name = 'HeldBack';
  }
}

/**
 * Runs one call; while its integration's breaker is open the call is held back (the activity sends
 * nothing and fails `circuit_open` at once), so this waits, on a durable timer, until the next probe
 * time and sends it again: the probe goes through whichever call claims it, and once one succeeds the
 * breaker closes and the wait ends with the call made. A call held back longer than the delivery's whole
 * time (HUB_RETRY_MAX_TIME) is dead like any other. `stop` ends a wait early with HeldBack.
 */
export async function deliverThroughBreaker(d: PlannedDelivery, retry: DeliveryRetry, stop: () => boolean = () => false): Promise<DeliveryResult> {
  const since = Date.now();
  for (;;) {
    try {
      return await runDelivery(d, retry);
    } catch (err) {
      const held = heldBack(err);
      if (!held || !patched(CIRCUIT_BREAKER_PATCH) || Date.now() - since >= retry.maximumTimeMs) throw err;
      const stopped = await condition(stop, waitMs(held.retryAt, Date.now(), held.probeIntervalMs));
      if (stopped) throw new HeldBack();
    }
  }
}
