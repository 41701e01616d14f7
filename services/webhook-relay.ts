import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { WebhookConfig } from '../config';
import type { Db } from '../db/knex';
import { integrationsNeedingChannels } from '../db/repositories/push-channels';
import { lanesToWake, relayOutbox, unwake, type Lane } from '../db/repositories/webhook-outbox';
import {
  PUSH_CHANNEL_TYPE,
  pushChannelWorkflowId,
  WEBHOOK_LANE_TYPE,
  webhookLaneId,
  webhookQueuedSignal,
  type PushChannelInput,
  type WebhookLaneInput,
} from '../workflows/webhook-messages';

/** Calendar providers whose integrations get a change-notification channel. */
export const PUSH_PROVIDERS = ['google-calendar', 'outlook-calendar'] as const;

export interface WebhookRelayDeps {
  /** The worker's role (tourhub_worker): the relay runs in every worker process. */
  db: Db;
  client: Pick<Client, 'workflow'>;
  /** Where the lane and channel workflows run (TEMPORAL_TASK_QUEUE). */
  taskQueue: string;
  config: WebhookConfig;
  /** PUBLIC_URL: where providers post notifications. Google and Graph accept only https ones. */
  publicUrl: string;
  logger: Logger;
}

/**
 * The outbox relay, run by every worker process (one relays at a time: an advisory lock). Each pass
 * fans new outbound_events out into per-subscription deliveries, in seq order, then starts or wakes
 * (signal-with-start) the lane workflow of every lane with work. Every `channelSweepMs` it also starts
 * the pushChannel workflow of calendar integrations without a live channel (a newly connected one, or
 * one whose workflow was lost). Polling, not LISTEN: a pass is one indexed query when idle.
 */
export function createWebhookRelay(deps: WebhookRelayDeps) {
  const { config } = deps;
  const laneInput = (lane: Lane): WebhookLaneInput => ({
    subscriptionId: lane.subscriptionId,
    orderingKey: lane.orderingKey,
    retry: { ...config.retry, attemptTimeoutMs: config.timeoutMs + 10_000 },
    lingerMs: config.laneLingerMs,
  });

  async function wake(lanes: Lane[]): Promise<number> {
    const failed: Lane[] = [];
    await Promise.all(
      lanes.map((lane) =>
        deps.client.workflow
          .signalWithStart(WEBHOOK_LANE_TYPE, {
            workflowId: webhookLaneId(lane.subscriptionId, lane.orderingKey),
            taskQueue: deps.taskQueue,
            args: [laneInput(lane)],
            signal: webhookQueuedSignal,
            staticSummary: `Webhooks to subscription ${lane.subscriptionId} (${lane.orderingKey})`,
          })
          .catch((err: unknown) => {
            deps.logger.warn({ err, lane }, 'could not wake a webhook lane; will retry');
            failed.push(lane);
          }),
      ),
    );
    if (failed.length > 0) await unwake(deps.db, failed);
    return lanes.length - failed.length;
  }

  return {
    /** One pass: everything new relayed, every lane with work woken. */
    async pass(): Promise<{ relayed: number; woken: number }> {
      let relayed = 0;
      for (;;) {
        const n = await relayOutbox(deps.db, 500);
        if (n === undefined) break;
        relayed += n;
        if (n < 500) break;
      }
      const woken = await wake(await lanesToWake(deps.db, config.resignalAfterMs, 200));
      return { relayed, woken };
    },

    /**
     * Starts the channel workflow of each calendar integration that lacks a live channel. Not while
     * PUBLIC_URL is plain http (a development machine): no provider would post to it.
     */
    async sweepChannels(): Promise<number> {
      if (!deps.publicUrl.startsWith('https://')) return 0;
      // Half the renewal lead: a channel that should have been renewed by now has lost its workflow.
      const until = new Date(Date.now() + config.channelRenewBeforeMs / 2);
      const ids = await integrationsNeedingChannels(deps.db, PUSH_PROVIDERS, until);
      for (const { id, provider } of ids) {
        const input: PushChannelInput = { integrationId: id, provider, renewBeforeMs: config.channelRenewBeforeMs };
        await deps.client.workflow.start(PUSH_CHANNEL_TYPE, {
          workflowId: pushChannelWorkflowId(id),
          taskQueue: deps.taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          staticSummary: `Change notifications of integration ${id} (${provider})`,
        });
      }
      return ids.length;
    },
  };
}

export type WebhookRelay = ReturnType<typeof createWebhookRelay>;

/** Runs the relay's passes and sweeps on their intervals until stopped; a failed pass is logged and retried. */
export function runWebhookRelay(relay: WebhookRelay, opts: { relayIntervalMs: number; channelSweepMs: number; logger: Logger }): { stop(): Promise<void> } {
  let stopped = false;
  let current: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let lastSweep = 0;
  const tick = () => {
    if (stopped) return;
    current = (async () => {
      try {
        await relay.pass();
        if (Date.now() - lastSweep >= opts.channelSweepMs) {
          lastSweep = Date.now();
          await relay.sweepChannels();
        }
      } catch (err) {
        opts.logger.warn({ err }, 'webhook relay pass failed; will retry');
      }
    })();
    void current.then(() => {
      if (!stopped) timer = setTimeout(tick, opts.relayIntervalMs);
    });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
