import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  continueAsNew,
  defineQuery,
  defineUpdate,
  log,
  patched,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RecordedEvent } from '../domain/events';
import { nextDue, reschedule, stillApplies, type FollowUp } from '../domain/follow-ups';
import { HUB_EVENT_TYPES, type HubEventDraft, type HubEventType, type HubSettings, type PlannedDelivery } from '../domain/hub';
import {
  apply,
  initialState,
  isSettled,
  validate,
  type AdvanceCommand,
  type StartCommand,
  type TourCommand,
  type TourShape,
  type TourState,
} from '../domain/tour-state';
import { deathReason, deliverySummary, runDelivery } from './deliveries';
import { TourStatus, TourStepIndex } from './search-attributes';

export interface TourWorkflowInput {
  orgId: string;
  userId: string;
  tourId: string;
  /** Continue-as-new after this many accepted updates, well before the server's 2000-update limit. */
  continueAsNewAfterUpdates?: number;
  /** Set only by continue-as-new: the state and frozen definition carried into the new run. */
  carried?: { state: TourState; shape: TourShape; hub?: HubCarried };
}

/** A delivery that ran out of retries, as the workflow's details list it. */
export interface DeadDelivery {
  idempotencyKey: string;
  summary: string;
  reason: string;
}

/** What the hub carries across continue-as-new: nothing planned, booked or owed is dropped. */
export interface HubCarried {
  settings: HubSettings;
  followUps: FollowUp[];
  /** Events not yet planned into deliveries. */
  unplanned: HubEventDraft[];
  /** Deliveries not yet finished, in order per integration (an in-flight one is sent again, same key). */
  pending: PlannedDelivery[];
  delivered: number;
  dead: DeadDelivery[];
}

export interface TourUpdateResult {
  state: TourState;
  /** True when the command changed nothing (a repeated start). */
  noop: boolean;
  /**
   * The analytics events of this transition, keyed by version and index. The caller writes them with the
   * state (read-your-writes for its client); the workflow writes them too, later, which is a no-op then.
   * Absent from runs that predate the projection-by-caller patch.
   */
  events?: RecordedEvent[];
}

export type StartTourArgs = Omit<StartCommand, 'kind'>;
export type AdvanceTourArgs = Omit<AdvanceCommand, 'kind'>;

export const startTourUpdate = defineUpdate<TourUpdateResult, [StartTourArgs]>('startTour');
export const advanceTourUpdate = defineUpdate<TourUpdateResult, [AdvanceTourArgs]>('advanceTour');
export const tourStateQuery = defineQuery<TourState | null>('tourState');

/**
 * Runs started after this patch leave the per-update write to the caller (the API, from the update's
 * result) and flush their own record within FLUSH_AFTER, and before they close: no local activity on
 * the update's path. Earlier runs keep persisting inside the handler until they end.
 */
export const PROJECTION_BY_CALLER_PATCH = 'projection-by-caller-v2';
const FLUSH_AFTER = '30 seconds';
const FLUSH_AFTER_MS = 30_000;

/**
 * Runs started after this patch also drive the hub: each tour event becomes deliveries (FIFO per
 * integration, on the providers' queues), and timers fire abandonment, re-engagement and check-ins.
 * Settled tours stay open while anything is booked or owed.
 */
export const HUB_PATCH = 'hub-deliveries-v3';

/** Used only if loadTour predates hub settings (it never does in a v3 run); mirrors config defaults. */
const DAY = 86_400_000;
const FALLBACK_HUB_SETTINGS: HubSettings = {
  retry: { initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 600_000, maximumAttempts: 25, maximumTimeMs: DAY, attemptTimeoutMs: 35_000 },
  abandonAfterMs: 7 * DAY,
  reengageAfterMs: DAY,
  checkInAfterMs: [DAY, 7 * DAY, 14 * DAY, 30 * DAY],
  checkInLeadMs: DAY,
};
const ROUTED: readonly string[] = HUB_EVENT_TYPES;
/** How many dead deliveries the details keep; the full list is GET /api/integrations/deliveries. */
const DEAD_SHOWN = 20;

/** Failure type for a tour whose definition is gone (deleted, or never in this organisation). */
export const TOUR_NOT_FOUND = 'tour_not_found';

const { loadTour, persistTransition, planDeliveries } = proxyLocalActivities<Activities>({
  // Persisting progress inside the update is the fast path (no task-queue round trip).
  startToCloseTimeout: '5 seconds',
  retry: { initialInterval: '50 ms', backoffCoefficient: 2, maximumInterval: '2 seconds', maximumAttempts: 6 },
});

const { markDeliveryDead } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  // A dead letter that is not recorded would be lost from the operators' view: keep trying.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * One user's run through one tour: workflow id `tour:{orgId}:{userId}:{tourId}`, driven by updates
 * (started with update-with-start). Progress lives here and is projected into Postgres after every
 * accepted transition; the workflow closes once nobody is mid-tour and a later start re-creates it
 * from Postgres.
 */
export async function tourLifecycle(input: TourWorkflowInput): Promise<TourState | null> {
  const info = workflowInfo();
  const projectionByCaller = patched(PROJECTION_BY_CALLER_PATCH);
  const hubOn = patched(HUB_PATCH);
  const carriedHub = input.carried?.hub;
  let hubSettings: HubSettings = carriedHub?.settings ?? FALLBACK_HUB_SETTINGS;
  let followUps: FollowUp[] = carriedHub?.followUps ?? [];
  let unplanned: HubEventDraft[] = carriedHub?.unplanned ?? [];
  const lanes = new Map<string, PlannedDelivery[]>();
  for (const d of carriedHub?.pending ?? []) laneOf(d.integrationId).push(d);
  const running = new Set<string>();
  let delivered = carriedHub?.delivered ?? 0;
  const dead: DeadDelivery[] = carriedHub?.dead ?? [];
  /** Set by handlers, timers and delivery lanes: the main loop has something to look at. */
  let dirty = false;
  /** When the unflushed events must reach Postgres at the latest (v3: one deadline per burst). */
  let flushBy: number | undefined;
  /** Rolling over: lanes finish their current call and start no other. */
  let draining = false;
  /** Events accepted since the last flush (projection-by-caller runs only). */
  let unflushed: RecordedEvent[] = [];
  /** What the search attributes say now, so they are upserted only when they would change. */
  let shown: { status: string; step: number } | undefined;
  let shape: TourShape | null | undefined = input.carried?.shape;
  let state: TourState | null = input.carried?.state ?? null;
  let acceptedUpdates = 0;
  /** Highest version that reached Postgres; a gap means the main loop must retry the write. */
  let persistedVersion = state?.version ?? 0;
  const limit = input.continueAsNewAfterUpdates ?? 500;

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
    check(command);
    // Validate and apply synchronously, with no await between: concurrent updates are serialised here,
    // so of two updates carrying the same expected version exactly one is accepted.
    const before = state!;
    const transition = apply(before, shape!, command, new Date().toISOString());
    if (transition.noop) return { state: state!, noop: true, ...(projectionByCaller ? { events: [] } : {}) };
    state = transition.state;
    acceptedUpdates++;
    if (hubOn) onTransition(before, transition.events, command);
    const interaction = command.kind === 'advance' ? command.interactionTimeMs : undefined;
    if (projectionByCaller) {
      const version = state.version;
      const events = transition.events.map((e, index) => ({
        ...e,
        version,
        index,
        ...(state!.lastInteractionAt ? { occurredAt: state!.lastInteractionAt } : {}),
        ...(interaction !== undefined ? { interactionTimeMs: interaction } : {}),
      }));
      unflushed.push(...events);
      // A status change is what operators search for: show it now. The step index waits for the flush.
      if (shown?.status !== state.status) showState(state);
      else setCurrentDetails(details(state));
      return { state, noop: false, events };
    }
    showState(state);
    try {
      await persistTransition({
        workflowId: info.workflowId,
        state,
        events: transition.events.map((e) => ({ ...e, ...(interaction !== undefined ? { interactionTimeMs: interaction } : {}) })),
      });
      persistedVersion = Math.max(persistedVersion, transition.state.version);
    } catch (err) {
      // The transition is durable in this workflow's history; the main loop keeps retrying the
      // projection rather than failing a step the user already took.
      log.warn('Progress not yet persisted; will retry', { version: transition.state.version, error: String(err) });
    }
    return { state: transition.state, noop: false };
  };

  setHandler(startTourUpdate, (args) => run({ kind: 'start', ...args }), {
    validator: (args) => check({ kind: 'start', ...args }),
  });
  setHandler(advanceTourUpdate, (args) => run({ kind: 'advance', ...args }), {
    validator: (args) => check({ kind: 'advance', ...args }),
  });
  setHandler(tourStateQuery, () => state);

  if (shape === undefined) {
    const loaded = await loadTour({ orgId: input.orgId, userId: input.userId, tourId: input.tourId });
    if (loaded.hub) hubSettings = loaded.hub;
    shape = loaded.shape;
    state = loaded.shape
      ? (loaded.progress ?? initialState({ progressId: uuid4(), orgId: input.orgId, userId: input.userId }, loaded.shape))
      : null;
    persistedVersion = state?.version ?? 0;
  }
  if (state) showState(state);
  // A run re-created from Postgres books only the abandonment of an active tour: re-engagement and
  // check-ins belonged to the run that made that transition. The deadline gets a minute's grace, so the
  // move that re-created the run (waiting just behind this code) lands before any overdue abandonment.
  if (hubOn && state && !carriedHub && state.status === 'in_progress') {
    followUps = reschedule([], null, state, hubSettings, Date.now()).map((f) => ({ ...f, dueAt: Math.max(f.dueAt, Date.now() + 60_000) }));
  }

  const behind = () => state !== null && state.version > persistedVersion;
  const settled = () => state === null || isSettled(state.status);
  const rollover = () => acceptedUpdates >= limit || workflowInfo().continueAsNewSuggested;

  if (hubOn) {
    for (const id of lanes.keys()) kick(id);
    const alarm = new Alarm();
    for (;;) {
      dirty = false;
      if (unplanned.length > 0 && !draining) {
        const batch = unplanned;
        unplanned = [];
        try {
          enqueue(
            await planDeliveries({
              workflowId: info.workflowId,
              orgId: input.orgId,
              userId: input.userId,
              tourId: input.tourId,
              tourName: shape?.name ?? '',
              progressId: state!.progressId,
              events: batch,
            }),
          );
        } catch (err) {
          // Postgres is down: the events stay owed, planned on the next pass.
          log.warn('Deliveries not yet planned; will retry', { error: String(err) });
          unplanned = [...batch, ...unplanned];
          await sleep('10 seconds');
        }
        continue;
      }
      const now = Date.now();
      if (!draining && followUps.some((f) => f.dueAt <= now)) {
        const due = followUps.filter((f) => f.dueAt <= now);
        followUps = followUps.filter((f) => f.dueAt > now);
        for (const f of due) fire(f, now);
        continue;
      }
      if (behind() && (settled() || rollover() || (flushBy !== undefined && flushBy <= now))) {
        await condition(allHandlersFinished);
        if (!(await flush())) flushBy = Date.now() + 10_000; // Postgres is down: try again shortly
        else flushBy = behind() ? Date.now() + FLUSH_AFTER_MS : undefined; // moves accepted during the write
        continue;
      }
      if (rollover()) {
        draining = true;
        // Let the calls in flight finish (bounded: a provider retrying for hours must not hold the
        // history open); whatever is left is carried and sent again under the same keys.
        await condition(() => running.size === 0, '1 minute');
        await condition(allHandlersFinished);
        if (behind()) continue; // the flush above runs first; unplanned events are carried as they are
        return continueAsNew<typeof tourLifecycle>({ ...input, carried: { state: state!, shape: shape!, hub: carry() } });
      }
      if (settled() && followUps.length === 0 && unplanned.length === 0 && lanes.size === 0 && running.size === 0 && !behind()) {
        await condition(allHandlersFinished);
        if (settled() && !behind() && unplanned.length === 0) return state;
        continue;
      }
      const wakeAt = [nextDue(followUps), behind() ? flushBy : undefined].filter((t): t is number => t !== undefined);
      if (wakeAt.length > 0) alarm.ringBy(Math.min(...wakeAt));
      await condition(() => dirty || alarm.rang || rollover());
      alarm.rang = false;
    }
  }

  if (projectionByCaller) {
    for (;;) {
      if (!behind()) await condition(() => behind() || settled() || rollover());
      // One timer per burst of activity, not per step: flush when it fires, or at once when settling.
      if (behind() && !settled() && !rollover()) await condition(() => settled() || rollover(), FLUSH_AFTER);
      await condition(allHandlersFinished);
      if (behind()) {
        if (!(await flush())) await sleep('10 seconds');
        continue;
      }
      if (settled()) return state;
      if (rollover()) return continueAsNew<typeof tourLifecycle>({ ...input, carried: { state: state!, shape: shape! } });
    }
  }

  // Runs from before PROJECTION_BY_CALLER_PATCH: each handler persisted its own transition.
  for (;;) {
    await condition(() => behind() || settled() || rollover());
    // Let in-flight updates finish first: each persists its own transition, and none may be cut off.
    await condition(allHandlersFinished);
    if (behind()) {
      try {
        await persistTransition({ workflowId: info.workflowId, state: state!, events: [] });
        persistedVersion = state!.version;
      } catch {
        await sleep('10 seconds');
      }
      continue;
    }
    if (settled()) return state;
    if (rollover()) return continueAsNew<typeof tourLifecycle>({ ...input, carried: { state: state!, shape: shape! } });
  }

  /**
   * Writes what was accepted since the last flush (projection-by-caller runs). On failure the events
   * go back in front of any newer ones, for the caller to try again later.
   */
  async function flush(): Promise<boolean> {
    const batch = unflushed;
    const snapshot = state!;
    unflushed = [];
    try {
      await persistTransition({ workflowId: info.workflowId, state: snapshot, events: batch });
      persistedVersion = Math.max(persistedVersion, snapshot.version);
      if (shown?.step !== state!.currentStepIndex || shown?.status !== state!.status) showState(state!);
      return true;
    } catch {
      unflushed = [...batch, ...unflushed];
      return false;
    }
  }

  function laneOf(integrationId: string): PlannedDelivery[] {
    let lane = lanes.get(integrationId);
    if (!lane) lanes.set(integrationId, (lane = []));
    return lane;
  }

  /** The hub's side of a transition: its routed events, and the timers its new status calls for. */
  function onTransition(before: TourState, events: { type: string }[], command: TourCommand): void {
    const after = state!;
    const occurredAt = after.lastInteractionAt ?? new Date().toISOString();
    events.forEach((e, index) => {
      if (!ROUTED.includes(e.type)) return;
      const type = e.type as HubEventType;
      unplanned.push({
        // The version is durable across re-creations of this workflow id, so the id never repeats.
        eventId: `${info.workflowId}:${after.version}.${index}`,
        type,
        occurredAt,
        ...(type === 'tour_completed' || type === 'feedback_submitted' ? { feedback: after.feedback } : {}),
        ...(type === 'tour_completed' && command.kind === 'advance' && command.subscriptionInterest
          ? { subscriptionInterest: command.subscriptionInterest }
          : {}),
      });
    });
    followUps = reschedule(followUps, before, after, hubSettings, Date.now());
    flushBy ??= Date.now() + FLUSH_AFTER_MS;
    dirty = true;
  }

  /** A timer came due: act if the tour is still where it was when the timer was booked. */
  function fire(f: FollowUp, now: number): void {
    if (!state || !stillApplies(f, state, hubSettings.abandonAfterMs, now)) return;
    const at = new Date(now).toISOString();
    switch (f.kind) {
      case 'abandon': {
        const command: TourCommand = { kind: 'advance', action: 'abandon_tour' };
        if (validate(state, shape!, command)) return;
        const before = state;
        const transition = apply(before, shape!, command, at);
        state = transition.state;
        unflushed.push(...transition.events.map((e, index) => ({ ...e, version: state!.version, index, occurredAt: at })));
        onTransition(before, transition.events, command);
        showState(state);
        return;
      }
      case 're_engagement':
        unplanned.push({ eventId: `${info.workflowId}:${f.version}.re-engagement`, type: 're_engagement_due', occurredAt: at });
        return;
      case 'check_in':
        unplanned.push({
          eventId: `${info.workflowId}:${f.version}.check-in-${f.number}`,
          type: 'check_in_due',
          occurredAt: at,
          checkIn: { number: f.number, of: f.of, at: new Date(f.slotAt).toISOString() },
        });
        return;
    }
  }

  function enqueue(planned: PlannedDelivery[]): void {
    for (const d of planned) laneOf(d.integrationId).push(d);
    for (const id of new Set(planned.map((d) => d.integrationId))) kick(id);
    if (state) setCurrentDetails(details(state));
  }

  /** One lane per integration: its deliveries go one at a time, in order, so a CRM never sees completion before start. */
  function kick(integrationId: string): void {
    if (running.has(integrationId) || draining) return;
    running.add(integrationId);
    void (async () => {
      const lane = laneOf(integrationId);
      while (lane.length > 0 && !draining) {
        await deliverOne(lane[0]!);
        lane.shift();
        if (state) setCurrentDetails(details(state));
      }
      if (lane.length === 0) lanes.delete(integrationId);
    })()
      .catch((err) => {
        // Only a cancellation of the whole workflow gets here (deliverOne keeps everything else).
        if (!isCancellation(err)) log.error('Delivery lane stopped', { integrationId, error: String(err) });
      })
      .finally(() => {
        running.delete(integrationId);
        dirty = true;
      });
  }

  async function deliverOne(d: PlannedDelivery): Promise<void> {
    try {
      await runDelivery(d, hubSettings.retry);
      delivered++;
    } catch (err) {
      if (isCancellation(err)) throw err;
      // Dead: recorded for a replay, and out of the way of the deliveries behind it.
      const reason = deathReason(err);
      dead.push({ idempotencyKey: d.idempotencyKey, summary: deliverySummary(d), reason });
      if (dead.length > DEAD_SHOWN) dead.splice(0, dead.length - DEAD_SHOWN);
      try {
        await markDeliveryDead({ idempotencyKey: d.idempotencyKey, integrationId: d.integrationId, error: reason });
      } catch (markErr) {
        if (isCancellation(markErr)) throw markErr;
        log.error('Could not record a dead delivery', { idempotencyKey: d.idempotencyKey, error: String(markErr) });
      }
    }
  }

  function carry(): HubCarried {
    return { settings: hubSettings, followUps, unplanned, pending: [...lanes.values()].flat(), delivered, dead };
  }

  function details(s: TourState): string {
    const base = stateDetails(s);
    if (!hubOn) return base;
    const pending = [...lanes.values()].flat();
    const lines = [
      base,
      '',
      `**Deliveries:** ${delivered} delivered, ${pending.length} pending, ${dead.length} dead`,
      ...pending.slice(0, 10).map((d, i) => `- ${i === 0 || !running.has(d.integrationId) ? 'pending' : 'queued'}: ${deliverySummary(d)}`),
      ...dead.slice(-10).map((d) => `- **dead**: ${d.summary}: ${d.reason}`),
      ...followUps
        .slice()
        .sort((a, b) => a.dueAt - b.dueAt)
        .map((f) => `- timer: ${f.kind === 'check_in' ? `check-in ${f.number} of ${f.of}` : f.kind.replace('_', '-')} at ${new Date(f.dueAt).toISOString()}`),
    ];
    return lines.join('\n');
  }

  function showState(s: TourState): void {
    upsertSearchAttributes([
      { key: TourStatus, value: s.status },
      { key: TourStepIndex, value: s.currentStepIndex },
    ]);
    shown = { status: s.status, step: s.currentStepIndex };
    setCurrentDetails(details(s));
  }
}

function stateDetails(state: TourState): string {
  return (
    [
      `**Status:** ${state.status}`,
      `**Step:** ${Math.min(state.currentStepIndex + 1, state.totalSteps)} of ${state.totalSteps}`,
      `**Completed steps:** ${state.completedSteps.join(', ') || 'none'}`,
      `**Skipped steps:** ${state.skippedSteps.join(', ') || 'none'}`,
      `**Version:** ${state.version}`,
      `**Progress id:** ${state.progressId}`,
    ].join('\n')
  );
}

/**
 * One timer for the main loop, set to ring no later than the earliest deadline. A later deadline keeps
 * the running timer (ringing early only makes the loop look again); an earlier one replaces it. So a
 * burst of steps costs one timer, not one per step.
 */
class Alarm {
  rang = false;
  private at: number | undefined;
  private scope: CancellationScope | undefined;

  ringBy(at: number): void {
    if (this.at !== undefined && this.at <= at) return;
    this.scope?.cancel();
    const scope = new CancellationScope();
    this.scope = scope;
    this.at = at;
    scope
      .run(() => sleep(Math.max(1, at - Date.now())))
      .then(
        () => {
          if (this.scope !== scope) return;
          this.rang = true;
          this.at = undefined;
          this.scope = undefined;
        },
        () => undefined,
      );
  }
}
