import crypto from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { DeliveryResult } from '../../activities/deliver';
import { createTourWorkflows, type TourWorkflows } from '../../services/temporal';
import type { Category, DeliveryInput, HubSettings } from '../../domain/hub';
import type { TourShape, TourState } from '../../domain/tour-state';
import { replayDelivery } from '../../workflows/delivery-replay';
import { providerTaskQueue } from '../../workflows/task-queues';
import { tourStateQuery, tourWorkflowId } from '../../workflows/tour-lifecycle/messages';
import { fakeActivities, type FakeIntegration } from '../support/fake-activities';
import { testConfig } from '../support/stack';
import { useTemporal } from '../support/temporal';

/** One call a fake provider received: which delivery, which attempt, and what it answered. */
interface Received {
  provider: string;
  key: string;
  method: string;
  eventType: string;
  attempt: number;
  at: number;
  ok: boolean;
  input: DeliveryInput;
}

type Behaviour = (input: DeliveryInput, attempt: number) => void | Promise<void>;

const temporal = useTemporal();

const shape = (steps = 3): TourShape => ({
  tourId: crypto.randomUUID(),
  name: 'Welcome',
  steps: Array.from({ length: steps }, (_, i) => ({ key: `s${i}`, skippable: true })),
});

const keyOf = (s: TourShape) => ({ orgId: crypto.randomUUID(), userId: crypto.randomUUID(), tourId: s.tourId });

/** Integrations of each category, on provider ids (and so task queues) no other test uses. */
function integrations(categories: Category[], settings: FakeIntegration['settings'] = {}): FakeIntegration[] {
  const run = crypto.randomUUID().slice(0, 8);
  return categories.map((category) => ({ id: crypto.randomUUID(), provider: `fake-${category}-${run}`, category, settings }));
}

async function eventually<T>(fn: () => T | undefined | false, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Hub {
  tours: TourWorkflows;
  received: Received[];
  /** Successful calls only: what the provider acted on. */
  delivered: (provider?: string) => Received[];
  behave(provider: string, b: Behaviour | undefined): void;
  fake: ReturnType<typeof fakeActivities>;
  taskQueue: string;
}

/**
 * A tour worker with fake activities, and one worker per fake provider on its own `provider-{id}` queue
 * whose `deliver` records every attempt and behaves as the test says (fail, go down, reject).
 */
async function withHub<T>(
  opts: { shape: TourShape; integrations: FakeIntegration[]; hub?: Partial<HubSettings>; stored?: TourState },
  fn: (hub: Hub) => Promise<T>,
): Promise<T> {
  const config = testConfig();
  const fake = fakeActivities(opts.shape, { integrations: opts.integrations, ...(opts.hub ? { hub: opts.hub } : {}), ...(opts.stored ? { stored: opts.stored } : {}) });
  const received: Received[] = [];
  const behaviours = new Map<string, Behaviour>();
  const providers = [...new Set(opts.integrations.map((i) => i.provider))];
  const workers = await Promise.all([
    Worker.create({
      connection: temporal.native,
      taskQueue: config.temporal.taskQueue,
      workflowBundle: { codePath: config.temporal.workflowBundle! },
      dataConverter: temporal.dataConverter,
      activities: fake.activities,
    }),
    ...providers.map((provider) =>
      Worker.create({
        connection: temporal.native,
        taskQueue: providerTaskQueue(provider),
        dataConverter: temporal.dataConverter,
        activities: {
          async deliver(input: DeliveryInput): Promise<DeliveryResult> {
            const { attempt } = Context.current().info;
            const call: Received = { provider, key: input.idempotencyKey, method: input.action.method, eventType: input.eventType, attempt, at: Date.now(), ok: false, input };
            received.push(call);
            await behaviours.get(provider)?.(input, attempt);
            call.ok = true;
            return { reference: `${provider}-${received.length}`, alreadyDelivered: false };
          },
        },
      }),
    ),
  ]);
  const running = workers.map((w) => w.run());
  try {
    return await fn({
      tours: createTourWorkflows(temporal.client, config),
      received,
      delivered: (provider) => received.filter((r) => r.ok && (provider === undefined || r.provider === provider)),
      behave: (provider, b) => (b ? behaviours.set(provider, b) : behaviours.delete(provider)),
      fake,
      taskQueue: config.temporal.taskQueue,
    });
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.all(running);
  }
}

const retryable = (message: string) => ApplicationFailure.create({ type: 'provider_unavailable', message, nonRetryable: false });

describe('the hub in the tour workflow', () => {
  it('turns each tour event into the seed\'s actions, one delivery per route, each key used once', async () => {
    const s = shape(2);
    const [crm, calendar, payment, email, sms] = integrations(['crm', 'calendar', 'payment', 'email', 'sms'], { routes: { sms_welcome_enabled: true } });
    await withHub({ shape: s, integrations: [crm!, calendar!, payment!, email!, sms!] }, async (hub) => {
      const k = keyOf(s);
      await hub.tours.start(k, {}, 'test');
      await hub.tours.advance(k, { action: 'complete_tour', feedback: { rating: 5, feedback: 'Lovely' }, subscriptionInterest: { plan: 'premium' } }, 'test');
      await eventually(() => hub.delivered().length >= 10, 20_000, '10 deliveries');
      const by = (i: FakeIntegration) => hub.delivered(i.provider).map((r) => `${r.eventType}:${r.method}`);
      expect(by(crm!)).toEqual(['tour_started:logActivity', 'tour_completed:logActivity', 'tour_completed:createTask', 'feedback_submitted:addNote']);
      expect(by(calendar!)).toEqual(['tour_completed:createEvent']);
      expect(by(payment!)).toEqual(['tour_completed:recordSubscriptionInterest']);
      expect(by(email!)).toEqual(['tour_completed:upsertSubscriber', 'tour_completed:addTags', 'tour_completed:triggerSequence']);
      expect(by(sms!)).toEqual(['tour_completed:sendMessage']);
      const task = hub.delivered(crm!.provider).find((r) => r.method === 'createTask')!;
      expect(task.input.action.input).toMatchObject({ priority: 'normal', title: 'Follow up with Ava Reed' });
      const keys = hub.received.map((r) => r.key);
      expect(new Set(keys).size).toBe(keys.length);
      const workflowId = tourWorkflowId(k.orgId, k.userId, k.tourId);
      // The event id is the workflow id and the transition's version: stable across retries and re-creations.
      expect(hub.delivered(crm!.provider)[1]!.input.eventId).toBe(`${workflowId}:2.0`);

      // Operators: each provider call is an activity whose summary names provider and action, and the
      // workflow's details list what was delivered.
      const handle = temporal.client.workflow.getHandle(workflowId);
      const history = await handle.fetchHistory();
      // The history holds them encrypted, like every payload: the operator's UI decodes them through the codec.
      const sealed = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.userMetadata!.summary!);
      const codec = temporal.dataConverter.payloadCodecs![0]!;
      const summaries = (await codec.decode(sealed)).map((p) => Buffer.from(p.data!).toString());
      expect(summaries).toContain(JSON.stringify(`${crm!.provider}: crm.createTask for tour_completed`));
      // Nothing booked (no check-ins configured here) and nothing owed: the run ends.
      expect(await handle.result()).toMatchObject({ status: 'completed' });
    });
  });

  it('keeps each integration in order while it retries, without holding up the others', async () => {
    const s = shape(2);
    const [crm, email] = integrations(['crm', 'email']);
    await withHub({ shape: s, integrations: [crm!, email!] }, async (hub) => {
      // The CRM fails its first call (tour_started) three times before taking it.
      hub.behave(crm!.provider, (input, attempt) => {
        if (input.eventType === 'tour_started' && attempt <= 3) throw retryable('CRM is busy');
      });
      const k = keyOf(s);
      await hub.tours.start(k, {}, 'test');
      await hub.tours.advance(k, { action: 'complete_tour' }, 'test');
      // Email is not stuck behind the CRM's retries.
      await eventually(() => hub.delivered(email!.provider).length === 3, 10_000, 'email deliveries');
      await eventually(() => hub.delivered(crm!.provider).length === 3, 20_000, 'CRM deliveries');
      const crmCalls = hub.received.filter((r) => r.provider === crm!.provider);
      expect(crmCalls.map((r) => `${r.eventType}:${r.method}:${r.attempt}:${r.ok}`)).toEqual([
        'tour_started:logActivity:1:false',
        'tour_started:logActivity:2:false',
        'tour_started:logActivity:3:false',
        'tour_started:logActivity:4:true',
        'tour_completed:logActivity:1:true',
        'tour_completed:createTask:1:true',
      ]);
    });
  }, 60_000);

  it('waits out a provider that is down for longer than a retry interval, and makes each call exactly once', async () => {
    const s = shape(2);
    const [calendar, crm] = integrations(['calendar', 'crm']);
    await withHub({ shape: s, integrations: [calendar!, crm!] }, async (hub) => {
      // Down for 2.5 s from the first call it sees (not from now: on a loaded machine the first call can
      // come a second or two later); retries start at 100 ms and cap at 400 ms, so several fail.
      let downUntil: number | undefined;
      for (const i of [calendar!, crm!]) {
        hub.behave(i.provider, () => {
          downUntil ??= Date.now() + 2_500;
          if (Date.now() < downUntil) throw retryable('503 Service Unavailable');
        });
      }
      const k = keyOf(s);
      await hub.tours.start(k, {}, 'test');
      await hub.tours.advance(k, { action: 'complete_tour' }, 'test');
      await eventually(() => hub.delivered().length === 4, 30_000, 'all deliveries once the providers are back');
      expect(hub.received.filter((r) => !r.ok).length).toBeGreaterThan(4);
      const succeeded = hub.delivered().map((r) => r.key);
      expect(new Set(succeeded).size).toBe(4);
      await new Promise((r) => setTimeout(r, 500));
      expect(hub.delivered()).toHaveLength(4);
      expect(hub.fake.deadMarks).toEqual([]);
    });
  }, 60_000);

  it('waits while an integration is paused by its breaker, then sends its calls in order, holding up no other integration', async () => {
    const s = shape(2);
    const [crm, email] = integrations(['crm', 'email']);
    await withHub({ shape: s, integrations: [crm!, email!] }, async (hub) => {
      // The deliver activity holds every call back (circuit_open, nothing sent) until a probe succeeds.
      const pausedUntil = Date.now() + 2_500;
      hub.behave(crm!.provider, () => {
        if (Date.now() < pausedUntil) {
          throw ApplicationFailure.create({ type: 'circuit_open', message: 'paused', nonRetryable: true, details: [{ retryAt: pausedUntil, probeIntervalMs: 1_000 }] });
        }
      });
      const k = keyOf(s);
      await hub.tours.start(k, {}, 'test');
      await hub.tours.advance(k, { action: 'complete_tour' }, 'test');
      await eventually(() => hub.delivered(email!.provider).length === 3, 10_000, 'email deliveries');
      await eventually(() => hub.delivered(crm!.provider).length === 3, 30_000, 'CRM deliveries once the breaker closed');
      const crmCalls = hub.received.filter((r) => r.provider === crm!.provider);
      expect(crmCalls.filter((r) => r.ok).map((r) => `${r.eventType}:${r.method}`)).toEqual(['tour_started:logActivity', 'tour_completed:logActivity', 'tour_completed:createTask']);
      // Held back, the first call was asked again about once a second, each time as a new activity; nothing behind it went first.
      const held = crmCalls.filter((r) => !r.ok);
      expect(held.length).toBeGreaterThanOrEqual(1);
      expect(held.length).toBeLessThanOrEqual(6);
      expect(held.every((r) => r.eventType === 'tour_started' && r.attempt === 1)).toBe(true);
      expect(hub.fake.deadMarks).toEqual([]);
    });
  }, 60_000);

  it('sends a rejected call (a 400) to the dead letter at once, moves on, and a replay succeeds with the same key', async () => {
    const s = shape(2);
    const [email, crm] = integrations(['email', 'crm']);
    await withHub({ shape: s, integrations: [email!, crm!] }, async (hub) => {
      hub.behave(email!.provider, (input) => {
        if (input.action.method === 'upsertSubscriber') {
          throw ApplicationFailure.create({ type: 'invalid_request', message: '400 Invalid Resource: merge field missing', nonRetryable: true });
        }
      });
      const k = keyOf(s);
      await hub.tours.start(k, {}, 'test');
      await hub.tours.advance(k, { action: 'complete_tour' }, 'test');
      // The dead upsert does not block the email integration's next delivery, nor the CRM.
      await eventually(() => hub.delivered(email!.provider).length === 2 && hub.delivered(crm!.provider).length === 3, 20_000, 'deliveries after the dead one');
      const upserts = hub.received.filter((r) => r.method === 'upsertSubscriber');
      expect(upserts).toHaveLength(1); // no retries
      await eventually(() => hub.fake.deadMarks.length === 1, 10_000, 'the dead letter');
      expect(hub.fake.deadMarks[0]).toMatchObject({ idempotencyKey: upserts[0]!.key, error: expect.stringContaining('invalid_request') });

      const handle = temporal.client.workflow.getHandle(tourWorkflowId(k.orgId, k.userId, k.tourId));
      // The dead delivery shows in the workflow's details for operators.
      const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      expect(meta.currentDetails).toContain('**dead**');

      // The provider is fixed; an operator replays the dead delivery.
      hub.behave(email!.provider, undefined);
      const replay = await temporal.client.workflow.execute(replayDelivery, {
        taskQueue: hub.taskQueue,
        workflowId: `delivery-replay:${crypto.randomUUID()}`,
        args: [{ deliveryId: upserts[0]!.key }],
      });
      expect(replay.alreadyDelivered).toBe(false);
      const again = hub.received.filter((r) => r.method === 'upsertSubscriber');
      expect(again.map((r) => [r.key, r.ok])).toEqual([
        [upserts[0]!.key, false],
        [upserts[0]!.key, true],
      ]);
    });
  }, 60_000);

  it('abandons an idle tour after its inactivity period, then sends re-engagement after its delay', async () => {
    const s = shape(3);
    const [crm, email] = integrations(['crm', 'email']);
    await withHub({ shape: s, integrations: [crm!, email!], hub: { abandonAfterMs: 1_500, reengageAfterMs: 1_500 } }, async (hub) => {
      const k = keyOf(s);
      await hub.tours.start(k, {}, 'test');
      const stepAt = Date.now();
      await hub.tours.advance(k, { action: 'next_step' }, 'test');
      const handle = temporal.client.workflow.getHandle(tourWorkflowId(k.orgId, k.userId, k.tourId));
      const task = await eventually(() => hub.delivered(crm!.provider).find((r) => r.eventType === 'tour_abandoned'), 15_000, 'the abandonment task');
      expect(task.at - stepAt).toBeGreaterThanOrEqual(1_400);
      expect(task.input.action.input).toMatchObject({ priority: 'high' });
      expect(await handle.query(tourStateQuery)).toMatchObject({ status: 'abandoned', version: 3 });
      expect(hub.fake.stored()).toMatchObject({ status: 'abandoned', version: 3 });
      expect(hub.delivered(email!.provider)).toEqual([]); // not yet: the re-engagement waits its delay
      const reengagement = await eventually(() => hub.delivered(email!.provider).find((r) => r.method === 'triggerSequence'), 15_000, 're-engagement');
      expect(reengagement.eventType).toBe('re_engagement_due');
      expect(reengagement.input.action.input).toMatchObject({ sequence: 're-engagement' });
      expect(reengagement.at - task.at).toBeGreaterThanOrEqual(1_300);
      // Nothing more is booked: the run ends.
      expect(await handle.result()).toMatchObject({ status: 'abandoned' });
    });
  }, 60_000);

  it('cancels the re-engagement when the couple resumes the tour', async () => {
    const s = shape(3);
    const [email] = integrations(['email']);
    await withHub({ shape: s, integrations: [email!], hub: { reengageAfterMs: 2_000, abandonAfterMs: 60_000 } }, async (hub) => {
      const k = keyOf(s);
      await hub.tours.start(k, {}, 'test');
      await hub.tours.advance(k, { action: 'abandon_tour' }, 'test');
      await new Promise((r) => setTimeout(r, 500));
      await hub.tours.start(k, {}, 'test'); // resume
      await new Promise((r) => setTimeout(r, 3_000));
      expect(hub.received.filter((r) => r.eventType === 're_engagement_due')).toEqual([]);
      const handle = temporal.client.workflow.getHandle(tourWorkflowId(k.orgId, k.userId, k.tourId));
      expect(await handle.query(tourStateQuery)).toMatchObject({ status: 'in_progress' });
      const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      expect(meta.currentDetails).toContain('timer: abandon');
      expect(meta.currentDetails).not.toContain('re-engagement');
    });
  }, 60_000);

  it('books the check-in series after completion, in order, and a restart cancels what is left', async () => {
    const s = shape(2);
    const [crm, calendar] = integrations(['crm', 'calendar']);
    const hubSettings = { checkInAfterMs: [1_000, 2_000, 3_000, 4_000], checkInLeadMs: 0 };
    await withHub({ shape: s, integrations: [crm!, calendar!], hub: hubSettings }, async (hub) => {
      const k = keyOf(s);
      await hub.tours.start(k, {}, 'test');
      const done = await hub.tours.advance(k, { action: 'complete_tour' }, 'test');
      const completedAt = Date.parse(done.state.completedAt!);
      const checkIns = await eventually(() => {
        const c = hub.delivered(calendar!.provider).filter((r) => r.eventType === 'check_in_due');
        return c.length === 4 && c;
      }, 20_000, 'four check-ins');
      expect(checkIns.map((r) => (r.input.action.input as { summary: string }).summary)).toEqual([1, 2, 3, 4].map((n) => `Check-in ${n} of 4 with Ava Reed`));
      checkIns.forEach((r, i) => expect(r.at - completedAt).toBeGreaterThanOrEqual(hubSettings.checkInAfterMs[i]! - 100));
      await eventually(() => hub.delivered(crm!.provider).filter((r) => r.eventType === 'check_in_due').length === 4, 5_000, 'four CRM check-in tasks');
      const handle = temporal.client.workflow.getHandle(tourWorkflowId(k.orgId, k.userId, k.tourId));
      expect(await handle.result()).toMatchObject({ status: 'completed' });
    });

    // Another couple restarts the tour after completing it: the check-ins not yet due are cancelled.
    await withHub({ shape: s, integrations: integrations(['calendar']), hub: hubSettings }, async (hub) => {
      const k2 = keyOf(s);
      await hub.tours.start(k2, {}, 'test');
      await hub.tours.advance(k2, { action: 'complete_tour' }, 'test');
      await eventually(() => hub.delivered().filter((r) => r.eventType === 'check_in_due').length === 1, 10_000, 'the first check-in');
      await hub.tours.start(k2, { restart: true }, 'test');
      await new Promise((r) => setTimeout(r, 4_000));
      expect(hub.delivered().filter((r) => r.eventType === 'check_in_due')).toHaveLength(1);
      expect(await temporal.client.workflow.getHandle(tourWorkflowId(k2.orgId, k2.userId, k2.tourId)).query(tourStateQuery)).toMatchObject({ status: 'in_progress' });
    });
  }, 60_000);

  it('carries pending deliveries and timers across continue-as-new, and delivers each once', async () => {
    const s = shape(30);
    const [crm] = integrations(['crm']);
    await withHub({ shape: s, integrations: [crm!], hub: { abandonAfterMs: 60_000 } }, async (hub) => {
      // The CRM is slow: deliveries are still queued when the run rolls over.
      hub.behave(crm!.provider, () => new Promise((r) => setTimeout(r, 300)));
      const k = keyOf(s);
      const config = testConfig({ TOUR_CONTINUE_AS_NEW_AFTER_UPDATES: '10' });
      const tours = createTourWorkflows(temporal.client, { ...config, temporal: { ...config.temporal, taskQueue: hub.taskQueue } });
      await tours.start(k, {}, 'test');
      for (let i = 0; i < 12; i++) await tours.advance(k, { action: 'next_step' }, 'test');
      await tours.advance(k, { action: 'abandon_tour' }, 'test');
      await tours.start(k, {}, 'test');
      await tours.advance(k, { action: 'complete_tour' }, 'test');
      const workflowId = tourWorkflowId(k.orgId, k.userId, k.tourId);
      // start, abandon (task), resume (no CRM action), complete (activity + task)
      await eventually(() => hub.delivered().length === 4, 20_000, 'all CRM deliveries');
      expect(hub.delivered().map((r) => `${r.eventType}:${r.method}`)).toEqual([
        'tour_started:logActivity', 'tour_abandoned:createTask', 'tour_completed:logActivity', 'tour_completed:createTask',
      ]);
      const keys = hub.delivered().map((r) => r.key);
      expect(new Set(keys).size).toBe(4);
      // Visibility lags a little behind the runs themselves.
      let runs = 0;
      await eventually(() => runs >= 2 || (void temporal.client.workflow.count(`WorkflowId = '${workflowId}'`).then((c) => (runs = c.count)), false), 10_000, 'a second run');
      const state = await temporal.client.workflow.getHandle(workflowId).query(tourStateQuery);
      expect(state).toMatchObject({ status: 'completed' });
    });
  }, 60_000);

  it('re-created from Postgres, a run does not re-book an old completion\'s check-ins, nor abandon the tour under the move that woke it', async () => {
    const s = shape(3);
    const [crm] = integrations(['crm']);
    const k = keyOf(s);
    const longAgo = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const stored = (status: 'completed' | 'in_progress'): TourState => ({
      progressId: crypto.randomUUID(), orgId: k.orgId, userId: k.userId, tourId: s.tourId, status, currentStepIndex: status === 'completed' ? 2 : 1,
      completedSteps: status === 'completed' ? [0, 1, 2] : [0], skippedSteps: [], totalSteps: 3, version: 5, startedAt: longAgo,
      completedAt: status === 'completed' ? longAgo : null, lastInteractionAt: longAgo, totalTimeMs: 0, feedback: {}, deviceType: null, viewportSize: null,
    });
    // Check-ins of 1 s: were an old completion's series re-booked, all four would fire at once.
    await withHub({ shape: s, integrations: [crm!], stored: stored('completed'), hub: { checkInAfterMs: [1_000, 2_000, 3_000, 4_000], checkInLeadMs: 0 } }, async (hub) => {
      const restarted = await hub.tours.start(k, { restart: true }, 'test');
      expect(restarted.state).toMatchObject({ status: 'in_progress', version: 6 });
      await new Promise((r) => setTimeout(r, 1_500));
      expect(hub.received.filter((r) => r.eventType === 'check_in_due')).toEqual([]);
    });
    // An active tour idle for 40 days (longer than its inactivity period): the move that re-creates its run lands.
    const k2 = { ...k, userId: crypto.randomUUID() };
    await withHub({ shape: s, integrations: [crm!], stored: { ...stored('in_progress'), userId: k2.userId }, hub: { abandonAfterMs: 7 * 86_400_000 } }, async (hub) => {
      const moved = await hub.tours.advance(k2, { action: 'next_step' }, 'test');
      expect(moved.state).toMatchObject({ status: 'in_progress', currentStepIndex: 2, version: 6 });
    });
  }, 60_000);
});
