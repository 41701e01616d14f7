import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { nextDue, reschedule, stillApplies, type FollowUp } from '../../domain/follow-ups';
import { HUB_EVENT_TYPES, type HubEventDraft, type HubEventType, type HubSettings } from '../../domain/hub';
import { apply, initialState, isRun, isSettled, runFacts, startsRun, validate, type TourCommand, type TourShape, type TourState, type Transition } from '../../domain/tour-state';
import { DEFAULT_OUTAGE_MAX_WAIT_MS, outageReason, untilDatabaseAnswers } from '../outage';
import { DeliveryLanes } from './lanes';
import { advanceTourUpdate, startTourUpdate, submitFeedbackUpdate, TOUR_NOT_FOUND, tourStateQuery, type TourUpdateResult, type TourWorkflowInput } from './messages';
import { currentDetails, DB_ACTIVITY_OPTIONS, Projection } from './projection';
import { Alarm, followUpEvent, followUpsOnRecreate, takeDue } from './timers';

const { loadTour, planDeliveries } = proxyLocalActivities<Activities>(DB_ACTIVITY_OPTIONS);

const ROUTED: readonly string[] = HUB_EVENT_TYPES;

/** Issue 11: a start that begins a run on another published version (or other steps) loads that run's shape. */
export const TOUR_VERSIONS_PATCH = 'tour-versions';

/**
 * One user's run through one tour: workflow id `tour:{orgId}:{userId}:{tourId}`, driven by updates
 * (started with update-with-start). Progress lives here: the caller writes each accepted transition to
 * Postgres from the update's result, and the run flushes the same rows within 30 s and before it ends.
 * Each tour event becomes deliveries (FIFO per integration, on the providers' queues), and timers fire
 * abandonment, re-engagement and check-ins. The run closes once the tour is settled and nothing is
 * booked or owed; a later start re-creates it from Postgres.
 */
export async function tourLifecycle(input: TourWorkflowInput): Promise<TourState | null> {
  const { workflowId } = workflowInfo();
  const carried = input.carried;
  let hubSettings: HubSettings | undefined = carried?.hub.settings;
  let followUps: FollowUp[] = carried?.hub.followUps ?? [];
  let unplanned: HubEventDraft[] = carried?.hub.unplanned ?? [];
  let shape: TourShape | null | undefined = carried?.shape;
  let state: TourState | null = carried?.state ?? null;
  let acceptedUpdates = 0;
  /** Set by handlers, timers and delivery lanes: the main loop has something to look at. */
  let dirty = false;
  const limit = input.continueAsNewAfterUpdates ?? 500;
  const outageMaxWaitMs = input.dbOutageMaxWaitMs ?? DEFAULT_OUTAGE_MAX_WAIT_MS;
  const projection = new Projection(workflowId, () => state, (s, waiting) => currentDetails(s, lanes, followUps, waiting));
  const lanes = new DeliveryLanes(carried?.hub, {
    retry: () => hubSettings!.retry,
    outageMaxWaitMs: () => outageMaxWaitMs,
    onDelivered: () => projection.refresh(),
    onStopped: () => {
      dirty = true;
    },
  });

  const failure = (code: string, message: string, details: Record<string, unknown>) =>
    ApplicationFailure.create({ type: code, message, details: [details, state], nonRetryable: true });

  const check = (command: TourCommand): void => {
    if (shape === undefined) return; // not loaded yet: the handler checks once it is
    if (shape === null || state === null) throw failure(TOUR_NOT_FOUND, 'Tour not found', { tour_id: input.tourId });
    const error = validate(state, shape, command);
    if (error) throw failure(error.code, error.message, error.details);
  };

  const run = async (command: TourCommand): Promise<TourUpdateResult> => {
    await condition(() => shape !== undefined);
    if (command.kind === 'start' && command.run && shape && state && startsRun(state, command) && !isRun(shape, command.run) && patched(TOUR_VERSIONS_PATCH)) {
      // A new run takes the version and steps it asks for; a run under way keeps its own to its end.
      const loaded = await loadTour({ orgId: input.orgId, userId: input.userId, tourId: input.tourId, run: command.run });
      if (state && startsRun(state, command)) shape = loaded.shape;
    }
    check(command);
    // Validate and apply synchronously, with no await between: concurrent updates are serialised here,
    // so of two updates carrying the same expected version exactly one is accepted.
    const before = state!;
    const transition = apply(before, shape!, command, new Date().toISOString());
    if (transition.noop) return { state: before, noop: true, events: [] };
    const after = (state = transition.state);
    acceptedUpdates++;
    onTransition(before, transition.events, command);
    const interaction = command.kind === 'advance' ? command.interactionTimeMs : undefined;
    const facts = runFacts(after);
    const events = transition.events.map((e, index) => ({
      ...e,
      ...(Object.keys(facts).length > 0 ? { data: facts } : {}),
      version: after.version,
      index,
      ...(after.lastInteractionAt ? { occurredAt: after.lastInteractionAt } : {}),
      ...(interaction !== undefined ? { interactionTimeMs: interaction } : {}),
    }));
    projection.accepted(events);
    return { state: after, noop: false, events };
  };

  setHandler(startTourUpdate, (args) => run({ kind: 'start', ...args }), {
    validator: (args) => check({ kind: 'start', ...args }),
  });
  setHandler(advanceTourUpdate, (args) => run({ kind: 'advance', ...args }), {
    validator: (args) => check({ kind: 'advance', ...args }),
  });
  setHandler(submitFeedbackUpdate, (args) => run({ kind: 'feedback', ...args }), {
    validator: (args) => check({ kind: 'feedback', ...args }),
  });
  setHandler(tourStateQuery, () => state);

  if (shape === undefined) {
    // Updates that arrive meanwhile wait for the load (their callers time out and retry, into this run).
    const loaded = await untilDatabaseAnswers(
      'loading the tour',
      () => loadTour({ orgId: input.orgId, userId: input.userId, tourId: input.tourId, ...(input.run ? { run: input.run } : {}) }),
      { maxWaitMs: outageMaxWaitMs, waiting: (reason) => setCurrentDetails(reason ? `**Waiting for Postgres:** ${reason}` : '') },
    );
    hubSettings = loaded.hub;
    shape = loaded.shape;
    state = loaded.shape
      ? (loaded.progress ?? initialState({ progressId: uuid4(), orgId: input.orgId, userId: input.userId }, loaded.shape))
      : null;
    projection.loaded();
  }
  if (state) projection.show();
  if (state && !carried) followUps = followUpsOnRecreate(state, hubSettings!, Date.now());

  const behind = () => projection.behind();
  const settled = () => state === null || isSettled(state.status);
  const rollover = () => acceptedUpdates >= limit || workflowInfo().continueAsNewSuggested;

  lanes.resume();
  const alarm = new Alarm();
  for (;;) {
    dirty = false;
    if (unplanned.length > 0 && !lanes.draining) {
      const batch = unplanned;
      unplanned = [];
      try {
        lanes.enqueue(
          await planDeliveries({
            workflowId,
            orgId: input.orgId,
            userId: input.userId,
            tourId: input.tourId,
            tourName: shape?.name ?? '',
            progressId: state!.progressId,
            events: batch,
          }),
        );
        projection.waitingFor(undefined);
      } catch (err) {
        // Postgres is down: the events stay owed, planned on the next pass.
        log.warn('Deliveries not yet planned; will retry', { error: String(err) });
        projection.waitingFor(`planning deliveries: ${outageReason(err)} (next try in 10 s)`);
        unplanned = [...batch, ...unplanned];
        await sleep('10 seconds');
      }
      continue;
    }
    const now = Date.now();
    if (!lanes.draining && followUps.some((f) => f.dueAt <= now)) {
      const { due, waiting } = takeDue(followUps, now);
      followUps = waiting;
      for (const f of due) fire(f, now);
      continue;
    }
    if (behind() && (settled() || rollover() || projection.flushDue(now))) {
      await condition(allHandlersFinished);
      await projection.flush();
      continue;
    }
    if (rollover()) {
      lanes.drain();
      // Let the calls in flight finish (bounded: a provider retrying for hours must not hold the
      // history open); whatever is left is carried and sent again under the same keys.
      await condition(() => lanes.idle, '1 minute');
      await condition(allHandlersFinished);
      if (behind()) continue; // the flush above runs first; unplanned events are carried as they are
      return continueAsNew<typeof tourLifecycle>({
        ...input,
        carried: { state: state!, shape: shape!, hub: { settings: hubSettings!, followUps, unplanned, ...lanes.carry() } },
      });
    }
    if (settled() && followUps.length === 0 && unplanned.length === 0 && lanes.empty && !behind()) {
      await condition(allHandlersFinished);
      if (settled() && !behind() && unplanned.length === 0) return state;
      continue;
    }
    const wakeAt = [nextDue(followUps), projection.wakeAt()].filter((t): t is number => t !== undefined);
    if (wakeAt.length > 0) alarm.ringBy(Math.min(...wakeAt));
    await condition(() => dirty || alarm.rang || rollover());
    alarm.rang = false;
  }

  /** The hub's side of a transition: its routed events, and the timers its new status calls for. */
  function onTransition(before: TourState, events: Transition['events'], command: TourCommand): void {
    const after = state!;
    const occurredAt = after.lastInteractionAt ?? new Date().toISOString();
    events.forEach((e, index) => {
      if (!ROUTED.includes(e.type)) return;
      const type = e.type as HubEventType;
      unplanned.push({
        // The version is durable across re-creations of this workflow id, so the id never repeats.
        eventId: `${workflowId}:${after.version}.${index}`,
        type,
        occurredAt,
        ...(type === 'tour_completed' || type === 'feedback_submitted' ? { feedback: after.feedback } : {}),
        ...(type === 'tour_completed' && command.kind === 'advance' && command.subscriptionInterest
          ? { subscriptionInterest: command.subscriptionInterest }
          : {}),
      });
    });
    followUps = reschedule(followUps, before, after, hubSettings!, Date.now());
    dirty = true;
  }

  /** A timer came due: act if the tour is still where it was when the timer was booked. */
  function fire(f: FollowUp, now: number): void {
    if (!state || !stillApplies(f, state, hubSettings!.abandonAfterMs, now)) return;
    const at = new Date(now).toISOString();
    if (f.kind !== 'abandon') {
      unplanned.push(followUpEvent(f, workflowId, at));
      return;
    }
    const command: TourCommand = { kind: 'advance', action: 'abandon_tour' };
    if (validate(state, shape!, command)) return;
    const before = state;
    const transition = apply(before, shape!, command, at);
    const after = (state = transition.state);
    onTransition(before, transition.events, command);
    const facts = runFacts(after);
    projection.accepted(transition.events.map((e, index) => ({ ...e, ...(Object.keys(facts).length > 0 ? { data: facts } : {}), version: after.version, index, occurredAt: at })));
  }
}
