import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  log,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
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
}

export type StartTourArgs = Omit<StartCommand, 'kind'>;
export type AdvanceTourArgs = Omit<AdvanceCommand, 'kind'>;

export const startTourUpdate = defineUpdate<TourUpdateResult, [StartTourArgs]>('startTour');
export const advanceTourUpdate = defineUpdate<TourUpdateResult, [AdvanceTourArgs]>('advanceTour');
export const tourStateQuery = defineQuery<TourState | null>('tourState');

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
    if (transition.noop) return { state: state!, noop: true };
    state = transition.state;
    acceptedUpdates++;
    showState(state);
    const interaction = command.kind === 'advance' ? command.interactionTimeMs : undefined;
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
}

function showState(state: TourState): void {
  upsertSearchAttributes([
    { key: TourStatus, value: state.status },
    { key: TourStepIndex, value: state.currentStepIndex },
  ]);
  setCurrentDetails(
    [
      `**Status:** ${state.status}`,
      `**Step:** ${Math.min(state.currentStepIndex + 1, state.totalSteps)} of ${state.totalSteps}`,
      `**Completed steps:** ${state.completedSteps.join(', ') || 'none'}`,
      `**Skipped steps:** ${state.skippedSteps.join(', ') || 'none'}`,
      `**Version:** ${state.version}`,
      `**Progress id:** ${state.progressId}`,
    ].join('\n'),
  );
}
