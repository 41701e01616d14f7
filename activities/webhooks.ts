import { ApplicationFailure } from '@temporalio/common';
import { vendorHttp } from '../connectors/http';
import type { OutboundGuard } from '../connectors/outbound';
import { failureReason, sendWebhook, WEBHOOK_HOSTS, WEBHOOK_SENDER } from '../connectors/webhooks/sender';
import type { Db } from '../db/knex';
import {
  beginAttempt,
  loadDeliveryToSend,
  markWebhookDeliveryFailed,
  nextInLane,
  recordWebhookAttempt,
  type Lane,
  type NextInLane,
  type PausePolicy,
} from '../db/repositories/webhook-outbox';
import { openSubscriptionSecrets } from '../db/repositories/webhook-subscriptions';
import type { SecretBox } from '../db/secrets';
import { outboundBody } from '../domain/webhooks';

export interface WebhookActivityDeps {
  /** The worker's role (tourhub_worker): it sends for every organisation. */
  db: Db;
  box: SecretBox;
  outbound: OutboundGuard;
  /** One attempt's limit (WEBHOOK_TIMEOUT). */
  timeoutMs: number;
  pause: PausePolicy;
  now?: () => number;
}

/** What one send came to. A failed attempt is not a result: it throws, and Temporal retries it. */
export type SendOutcome = 'delivered' | 'already_done' | 'paused' | 'gone';

/** Closures over the worker's dependencies: the webhookLane workflow's activities. */
export function createWebhookActivities(deps: WebhookActivityDeps) {
  const now = deps.now ?? Date.now;
  const http = vendorHttp({ provider: WEBHOOK_SENDER, hosts: WEBHOOK_HOSTS, guard: deps.outbound, timeoutMs: deps.timeoutMs });
  return {
    /** The lane's next delivery in outbox order, or why there is none. */
    async nextWebhookDelivery(lane: Lane): Promise<NextInLane> {
      return nextInLane(deps.db, lane);
    },

    /**
     * One attempt at one delivery: signed (Standard Webhooks) with the subscription's secrets, sent
     * through the guarded layer, logged. A non-2xx answer or a failed call is logged, counted against
     * the subscription, and thrown for Temporal to retry with backoff; if it pauses the subscription,
     * the lane stops instead.
     */
    async sendWebhook(input: { deliveryId: string }): Promise<SendOutcome> {
      const found = await loadDeliveryToSend(deps.db, input.deliveryId);
      if (!found) return 'gone';
      const { delivery, subscription, event } = found;
      if (delivery.status !== 'pending') return 'already_done';
      if (subscription.status === 'paused') return 'paused';
      const attempt = await beginAttempt(deps.db, delivery.id);
      const base = { deliveryId: delivery.id, organizationId: delivery.organization_id, subscriptionId: subscription.id, attempt };
      let outcome: { success: boolean; statusCode: number | null; error: string | null; excerpt: string | null; durationMs: number };
      const started = now();
      try {
        const sent = await sendWebhook(http, {
          url: subscription.url,
          msgId: event.id,
          timestamp: new Date(now()),
          body: outboundBody(event),
          secrets: openSubscriptionSecrets(deps.box, subscription, now()),
        });
        outcome = { success: sent.ok, statusCode: sent.status, error: sent.ok ? null : `HTTP ${sent.status}`, excerpt: sent.excerpt || null, durationMs: sent.durationMs };
      } catch (err) {
        outcome = { success: false, statusCode: null, error: failureReason(err), excerpt: null, durationMs: now() - started };
      }
      const { paused } = await recordWebhookAttempt(deps.db, { ...base, ...outcome }, deps.pause);
      if (outcome.success) return 'delivered';
      if (paused) return 'paused';
      throw ApplicationFailure.retryable(`Attempt ${attempt} to ${new URL(subscription.url).host} failed: ${outcome.error}`, 'webhook_attempt_failed');
    },

    /** Retries ran out: the delivery is failed (an admin can resend it) and the lane moves on. */
    async markWebhookFailed(input: { deliveryId: string; reason: string }): Promise<void> {
      await markWebhookDeliveryFailed(deps.db, input.deliveryId, input.reason);
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
