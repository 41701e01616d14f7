import crypto from 'node:crypto';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import type { DeliveryResult } from '../../activities/deliver';
import type { DeliveryInput, PlannedDelivery } from '../../domain/hub';
import { configureProviderQueue } from '../../worker';
import { replayDelivery, replayWorkflowId } from '../../workflows/delivery-replay';
import { providerTaskQueue } from '../../workflows/task-queues';
import { FAST_HUB } from '../support/fake-activities';
import { testConfig } from '../support/stack';
import { useTemporal } from '../support/temporal';

/**
 * Issue 10: provider rate limits were enforced per provider across all organisations, so one busy
 * organisation starved every other organisation's calls. Two organisations' integrations share one
 * provider queue whose per-account limit is RATE a second: A queues 200 calls, then B queues 5. B's
 * calls must finish in about the time its own limit takes (5 / RATE s), not after A's backlog
 * (200 / RATE s). Each call is an operator's replay workflow: one provider call each, scheduled the way
 * the tour's lanes schedule theirs (workflows/deliveries.ts). Each organisation's workflows run on a
 * workflow queue of their own, so what is measured is the provider queue alone: on one workflow queue,
 * B's workflows would first wait for A's 200 workflow tasks (the tour queue has no fairness keys).
 */
const RATE = 25;
const A_CALLS = 200;
const B_CALLS = 5;
/** Scheduling, polling and a partition's share of the rate: well under A's backlog of 8 s. */
const SLACK_MS = 2_500;

const temporal = useTemporal();

describe('fairness between organisations on one provider queue', () => {
  it(`finishes organisation B's ${B_CALLS} calls within its own rate while A's ${A_CALLS} are queued`, async () => {
    const config = testConfig();
    const provider = `fair-${crypto.randomUUID().slice(0, 8)}`;
    const taskQueue = providerTaskQueue(provider);
    const integrationA = crypto.randomUUID();
    const integrationB = crypto.randomUUID();
    const planned = new Map<string, PlannedDelivery>();
    const plan = (integrationId: string): string => {
      const deliveryId = crypto.randomUUID();
      planned.set(deliveryId, {
        workflowId: `tour:${integrationId}`,
        eventId: `tour:${integrationId}:${deliveryId}`,
        eventType: 'tour_completed',
        integrationId,
        idempotencyKey: deliveryId,
        action: { category: 'sms', method: 'sendMessage', input: { to: '+15005550006', body: 'Welcome' } } as never,
        provider,
        category: 'sms',
      });
      return deliveryId;
    };
    const done: { integrationId: string; at: number }[] = [];
    const tourActivities = {
      async loadReplay({ deliveryId }: { deliveryId: string }) {
        return { delivery: planned.get(deliveryId)!, retry: FAST_HUB.retry };
      },
      async markDeliveryDead() {},
    } as unknown as Activities;
    const providerActivities = {
      async deliver(input: DeliveryInput): Promise<DeliveryResult> {
        done.push({ integrationId: input.integrationId, at: Date.now() });
        return { reference: null, alreadyDelivered: false };
      },
    };

    await configureProviderQueue(temporal.native, { namespace: config.temporal.namespace, taskQueue, perKeyRps: RATE, queueRps: 1000 });
    const workflowQueue = (integrationId: string) => `${config.temporal.taskQueue}-${integrationId === integrationA ? 'a' : 'b'}`;
    const workflowWorker = (integrationId: string) =>
      Worker.create({
        connection: temporal.native,
        taskQueue: workflowQueue(integrationId),
        workflowBundle: { codePath: config.temporal.workflowBundle! },
        dataConverter: temporal.dataConverter,
        activities: tourActivities,
      });
    const [workflowsA, workflowsB] = await Promise.all([workflowWorker(integrationA), workflowWorker(integrationB)]);
    const calls = await Worker.create({
      connection: temporal.native,
      taskQueue,
      dataConverter: temporal.dataConverter,
      activities: providerActivities,
      maxConcurrentActivityTaskExecutions: 50,
    });
    const start = (deliveryId: string) =>
      temporal.client.workflow.start(replayDelivery, {
        workflowId: replayWorkflowId(deliveryId),
        taskQueue: workflowQueue(planned.get(deliveryId)!.integrationId),
        args: [{ deliveryId }],
      });

    await workflowsA.runUntil(workflowsB.runUntil(
      calls.runUntil(async () => {
        const aIds = Array.from({ length: A_CALLS }, () => plan(integrationA));
        for (let i = 0; i < aIds.length; i += 25) await Promise.all(aIds.slice(i, i + 25).map(start));
        // A's backlog is there and draining at its own rate.
        while (done.length < 10) await new Promise((r) => setTimeout(r, 20));
        const bQueuedAt = Date.now();
        const bIds = Array.from({ length: B_CALLS }, () => plan(integrationB));
        await Promise.all(bIds.map(start));
        const deadline = bQueuedAt + 30_000;
        while (done.filter((d) => d.integrationId === integrationB).length < B_CALLS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        const bDone = done.filter((d) => d.integrationId === integrationB);
        const aLeft = A_CALLS - done.filter((d) => d.integrationId === integrationA && d.at <= (bDone.at(-1)?.at ?? Infinity)).length;
        expect(bDone).toHaveLength(B_CALLS);
        const bTookMs = bDone.at(-1)!.at - bQueuedAt;
        expect({ bTookMs, within: bTookMs <= (B_CALLS / RATE) * 1000 + SLACK_MS }).toEqual({ bTookMs, within: true });
        // Not behind A: most of A's calls were still waiting when B's last one finished.
        expect(aLeft).toBeGreaterThan(A_CALLS / 2);

        // The fairness key is on the provider call, where the UI and the history show it.
        const history = await temporal.client.workflow.getHandle(replayWorkflowId(bIds[0]!)).fetchHistory();
        const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes)!.activityTaskScheduledEventAttributes!;
        expect({ queue: scheduled.taskQueue?.name, key: scheduled.priority?.fairnessKey }).toEqual({ queue: taskQueue, key: integrationB });
        // A's backlog drains at its own limit, not faster.
        while (done.length < A_CALLS + B_CALLS) await new Promise((r) => setTimeout(r, 50));
      }),
    ));
    const aTimes = done.filter((d) => d.integrationId === integrationA).map((d) => d.at);
    const aRate = (aTimes.length - 1) / ((aTimes.at(-1)! - aTimes[0]!) / 1000);
    expect(aRate).toBeLessThan(RATE * 1.5);
  }, 90_000);
});
