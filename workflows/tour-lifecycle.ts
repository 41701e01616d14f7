import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
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
import type { RecordedEvent } from '../db/repositories/progress';
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
import { TourStatus, TourStepIndex } from './search-attributes';

export interface TourWorkflowInput {
  orgId: string;
  userId: string;
  tourId: string;
  /** Continue-as-new after this many accepted updates, well before the server's 2000-update limit. */
  continueAsNewAfterUpdates?: number;
  /** Set only by continue-as-new: the state and frozen definition carried into the new run. */
  carried?: { state: TourState; shape: TourShape };
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

/** Failure type for a tour whose definition is gone (deleted, or never in this organisation). */
export const TOUR_NOT_FOUND = 'tour_not_found';

const { loadTour, persistTransition } = proxyLocalActivities<Activities>({
  // Persisting progress inside the update is the fast path (no task-queue round trip).
  startToCloseTimeout: '5 seconds',
  retry: { initialInterval: '50 ms', backoffCoefficient: 2, maximumInterval: '2 seconds', maximumAttempts: 6 },
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
    const transition = apply(state!, shape!, command, new Date().toISOString());
    if (transition.noop) return { state: state!, noop: true, ...(projectionByCaller ? { events: [] } : {}) };
    state = transition.state;
    acceptedUpdates++;
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
    shape = loaded.shape;
    state = loaded.shape
      ? (loaded.progress ?? initialState({ progressId: uuid4(), orgId: input.orgId, userId: input.userId }, loaded.shape))
      : null;
    persistedVersion = state?.version ?? 0;
  }
  if (state) showState(state);

  const behind = () => state !== null && state.version > persistedVersion;
  const settled = () => state === null || isSettled(state.status);
  const rollover = () => acceptedUpdates >= limit || workflowInfo().continueAsNewSuggested;

  if (projectionByCaller) {
    for (;;) {
      if (!behind()) await condition(() => behind() || settled() || rollover());
      // One timer per burst of activity, not per step: flush when it fires, or at once when settling.
      if (behind() && !settled() && !rollover()) await condition(() => settled() || rollover(), FLUSH_AFTER);
      await condition(allHandlersFinished);
      if (behind()) {
        const batch = unflushed;
        const snapshot = state!;
        unflushed = [];
        try {
          await persistTransition({ workflowId: info.workflowId, state: snapshot, events: batch });
          persistedVersion = Math.max(persistedVersion, snapshot.version);
          if (shown?.step !== state!.currentStepIndex || shown?.status !== state!.status) showState(state!);
        } catch {
          unflushed = [...batch, ...unflushed];
          await sleep('10 seconds');
        }
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

  function showState(s: TourState): void {
    upsertSearchAttributes([
      { key: TourStatus, value: s.status },
      { key: TourStepIndex, value: s.currentStepIndex },
    ]);
    shown = { status: s.status, step: s.currentStepIndex };
    setCurrentDetails(details(s));
  }
}

function details(state: TourState): string {
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
