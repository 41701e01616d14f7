/**
 * The tour state machine: pure, synchronous, no I/O and no clock of its own (callers pass `now`),
 * so the workflow's update validators and handlers can call it deterministically.
 */

export const PROGRESS_STATUSES = ['not_started', 'in_progress', 'completed', 'abandoned', 'skipped_all'] as const;
export type ProgressStatus = (typeof PROGRESS_STATUSES)[number];

export const TOUR_ACTIONS = ['next_step', 'previous_step', 'skip_step', 'complete_tour', 'abandon_tour'] as const;
export type TourAction = (typeof TOUR_ACTIONS)[number];

export const DEVICE_TYPES = ['desktop', 'tablet', 'mobile', 'unknown'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

/** The analytics event each transition records (seed 000's event_type_enum). */
export type TourEventType =
  | 'tour_started'
  | 'step_viewed'
  | 'step_completed'
  | 'step_skipped'
  | 'tour_completed'
  | 'tour_abandoned'
  | 'feedback_submitted';

/**
 * What the state machine needs to know about a tour definition, frozen when the workflow starts: the
 * steps of one person's run of one published version (the steps their targeting rules kept).
 */
export interface TourShape {
  tourId: string;
  name: string;
  steps: { key: string; skippable: boolean }[];
  /** The published version these steps are from; absent for a definition loaded before versions. */
  version?: number;
}

/** Which published version a fresh start takes, and which of its steps this person's rules kept. */
export interface TourRun {
  version: number;
  stepKeys: string[];
}

/** The A/B test variant a run was started with (seed 000's ab_test_variant). */
export interface RunExperiment {
  testId: string;
  variant: 'a' | 'b';
}

export interface Feedback {
  rating?: number;
  feedback?: string;
  wasHelpful?: boolean;
}

export interface TourState {
  progressId: string;
  orgId: string;
  userId: string;
  tourId: string;
  status: ProgressStatus;
  currentStepIndex: number;
  completedSteps: number[];
  skippedSteps: number[];
  totalSteps: number;
  /** Monotonic: bumped by every accepted transition; the persisted row never goes backwards. */
  version: number;
  startedAt: string | null;
  completedAt: string | null;
  lastInteractionAt: string | null;
  totalTimeMs: number;
  feedback: Feedback;
  deviceType: DeviceType | null;
  viewportSize: { width: number; height: number } | null;
  /**
   * The run's published version, its step keys and its variant, set by the start that began it and kept
   * to its end. Optional: states recorded before versions have none (the latest version applies).
   */
  tourVersion?: number | null;
  stepKeys?: string[] | null;
  abTest?: RunExperiment | null;
}

export interface StartCommand {
  kind: 'start';
  deviceType?: DeviceType;
  viewportSize?: { width: number; height: number };
  /** Start a finished tour again from its first step. */
  restart?: boolean;
  /** For a start that begins a run (not a resume): the version and steps it takes. */
  run?: TourRun;
  /** For a start that begins a run: the variant of the tour's running A/B test, if any. */
  abTest?: RunExperiment;
}

/** A rating of a finished tour, after the fact (once). */
export interface FeedbackCommand {
  kind: 'feedback';
  feedback: Feedback;
}

export interface AdvanceCommand {
  kind: 'advance';
  action: TourAction;
  stepIndex?: number;
  stepKey?: string;
  interactionTimeMs?: number;
  feedback?: Feedback;
  /** The version the client last saw; a stale one is refused so two devices cannot overwrite each other. */
  expectedVersion?: number;
  /** The couple said they want a paid plan; the payment integration records it if this completes the tour. */
  subscriptionInterest?: { plan: string };
}

export type TourCommand = StartCommand | AdvanceCommand | FeedbackCommand;

/** Why a transition is refused: stable codes that callers show or map (the API to HTTP statuses in api/error-codes.ts). */
export const TRANSITION_ERROR_CODES = [
  'tour_not_started',
  'tour_already_finished',
  'version_conflict',
  'step_mismatch',
  'step_index_out_of_range',
  'unknown_step_key',
  'no_previous_step',
  'step_not_skippable',
  'invalid_feedback',
  'tour_has_no_steps',
] as const;
/** Why feedback after the end is refused (with invalid_feedback above). */
export const FEEDBACK_ERROR_CODES = ['tour_not_finished', 'feedback_already_given', 'invalid_feedback'] as const;

/** What a start or a move can be refused with. */
export type MoveErrorCode = (typeof TRANSITION_ERROR_CODES)[number];
export type TransitionErrorCode = MoveErrorCode | (typeof FEEDBACK_ERROR_CODES)[number];

export interface TransitionError {
  code: TransitionErrorCode;
  message: string;
  details: Record<string, unknown>;
}

export interface Transition {
  state: TourState;
  events: { type: TourEventType; stepIndex: number | null; stepKey: string | null }[];
  /** True when this command changed nothing (a repeated start): nothing to persist. */
  noop: boolean;
}

export const FINISHED_STATUSES: readonly ProgressStatus[] = ['completed', 'skipped_all'];

export function isFinished(status: ProgressStatus): boolean {
  return FINISHED_STATUSES.includes(status);
}

/** The workflow can close once nobody is mid-tour; a later start re-creates it from Postgres. */
export function isSettled(status: ProgressStatus): boolean {
  return status !== 'in_progress';
}

export function initialState(ids: { progressId: string; orgId: string; userId: string }, shape: TourShape): TourState {
  return {
    progressId: ids.progressId,
    orgId: ids.orgId,
    userId: ids.userId,
    tourId: shape.tourId,
    status: 'not_started',
    currentStepIndex: 0,
    completedSteps: [],
    skippedSteps: [],
    totalSteps: shape.steps.length,
    version: 0,
    startedAt: null,
    completedAt: null,
    lastInteractionAt: null,
    totalTimeMs: 0,
    feedback: {},
    deviceType: null,
    viewportSize: null,
  };
}

function fail(code: TransitionErrorCode, message: string, details: Record<string, unknown> = {}): TransitionError {
  return { code, message, details };
}

/**
 * Returns why `command` cannot apply to `state`, or null if it can. Shared by the update validator
 * (cheap rejection, no history) and the handler (authoritative, after concurrent updates).
 */
export function validate(state: TourState, shape: TourShape, command: TourCommand): TransitionError | null {
  if (command.kind === 'feedback') return validateFeedback(state, command.feedback);
  if (shape.steps.length === 0) return fail('tour_has_no_steps', 'This tour has no steps to take');
  if (command.kind === 'start') {
    if (isFinished(state.status) && !command.restart) {
      return fail('tour_already_finished', `Tour is already ${state.status}; start it with restart=true to take it again`, {
        status: state.status,
      });
    }
    return null;
  }
  if (command.expectedVersion !== undefined && command.expectedVersion !== state.version) {
    return fail('version_conflict', 'This tour changed since you last saw it', {
      expected_version: command.expectedVersion,
      current_version: state.version,
    });
  }
  if (isFinished(state.status)) {
    return fail('tour_already_finished', `Tour is already ${state.status}`, { status: state.status });
  }
  if (state.status !== 'in_progress') {
    return fail('tour_not_started', `Tour is ${state.status}; start it before moving through its steps`, {
      status: state.status,
    });
  }
  if (command.stepIndex !== undefined) {
    if (command.stepIndex < 0 || command.stepIndex >= shape.steps.length) {
      return fail('step_index_out_of_range', `Step index ${command.stepIndex} is outside 0..${shape.steps.length - 1}`, {
        step_index: command.stepIndex,
        total_steps: shape.steps.length,
      });
    }
    if (command.stepIndex !== state.currentStepIndex) {
      return fail('step_mismatch', `You are on step ${state.currentStepIndex}, not ${command.stepIndex}`, {
        step_index: command.stepIndex,
        current_step_index: state.currentStepIndex,
      });
    }
  }
  if (command.stepKey !== undefined) {
    const index = shape.steps.findIndex((s) => s.key === command.stepKey);
    if (index === -1) {
      return fail('unknown_step_key', `This tour has no step "${command.stepKey}"`, { step_key: command.stepKey });
    }
    if (index !== state.currentStepIndex) {
      return fail('step_mismatch', `You are on step ${state.currentStepIndex}, not "${command.stepKey}"`, {
        step_key: command.stepKey,
        current_step_index: state.currentStepIndex,
      });
    }
  }
  const rating = command.feedback?.rating;
  if (rating !== undefined && (!Number.isInteger(rating) || rating < 1 || rating > 5)) {
    return fail('invalid_feedback', 'Rating must be a whole number from 1 to 5', { rating });
  }
  switch (command.action) {
    case 'previous_step':
      if (state.currentStepIndex === 0) return fail('no_previous_step', 'Already on the first step');
      return null;
    case 'skip_step': {
      const step = shape.steps[state.currentStepIndex];
      if (step && !step.skippable) {
        return fail('step_not_skippable', `Step "${step.key}" cannot be skipped`, { step_key: step.key });
      }
      return null;
    }
    default:
      return null;
  }
}

function hasFeedback(f: Feedback): boolean {
  return f.rating !== undefined || f.feedback !== undefined || f.wasHelpful !== undefined;
}

function validateFeedback(state: TourState, feedback: Feedback): TransitionError | null {
  if (!isFinished(state.status)) {
    return fail('tour_not_finished', `Tour is ${state.status}; rate it once it is finished`, { status: state.status });
  }
  if (hasFeedback(state.feedback)) {
    return fail('feedback_already_given', 'This tour has been rated already', {});
  }
  if (!hasFeedback(feedback)) return fail('invalid_feedback', 'Send a rating, a comment or whether it was helpful', {});
  const rating = feedback.rating;
  if (rating !== undefined && (!Number.isInteger(rating) || rating < 1 || rating > 5)) {
    return fail('invalid_feedback', 'Rating must be a whole number from 1 to 5', { rating });
  }
  return null;
}

/** A start that begins a run (first start, or a restart of a finished tour), as opposed to a resume. */
export function startsRun(state: TourState, command: StartCommand): boolean {
  return state.status === 'not_started' || (isFinished(state.status) && command.restart === true);
}

/** Whether `shape` already is the run a start asks for. */
export function isRun(shape: TourShape, run: TourRun): boolean {
  return shape.version === run.version && shape.steps.length === run.stepKeys.length && shape.steps.every((s, i) => s.key === run.stepKeys[i]);
}

/** What every analytics event of a run carries: its version and its variant. */
export function runFacts(state: TourState): Record<string, unknown> {
  return {
    ...(state.tourVersion != null ? { tour_version: state.tourVersion } : {}),
    ...(state.abTest ? { ab_test_id: state.abTest.testId, ab_test_variant: state.abTest.variant } : {}),
  };
}

function withoutIndex(list: number[], index: number): number[] {
  return list.filter((i) => i !== index);
}

function withIndex(list: number[], index: number): number[] {
  return list.includes(index) ? list : [...list, index].sort((a, b) => a - b);
}

/** Applies a command already accepted by `validate`. Throws if it was not, to catch a caller skipping validation. */
export function apply(state: TourState, shape: TourShape, command: TourCommand, now: string): Transition {
  const error = validate(state, shape, command);
  if (error) throw new Error(`apply() called with an invalid command: ${error.code}`);
  const stepKey = (index: number) => shape.steps[index]?.key ?? null;

  if (command.kind === 'feedback') {
    const next: TourState = { ...state, feedback: { ...command.feedback }, version: state.version + 1 };
    return { state: next, events: [{ type: 'feedback_submitted', stepIndex: state.currentStepIndex, stepKey: stepKey(state.currentStepIndex) }], noop: false };
  }

  if (command.kind === 'start') {
    if (state.status === 'in_progress') return { state, events: [], noop: true };
    const restarting = isFinished(state.status);
    const resumed = state.status === 'abandoned';
    const begins = startsRun(state, command);
    const next: TourState = {
      ...state,
      // A run keeps its version, steps and variant to its end; only a start that begins one sets them.
      ...(begins
        ? { tourVersion: shape.version ?? null, stepKeys: shape.steps.map((s) => s.key), abTest: command.abTest ?? null }
        : {}),
      status: 'in_progress',
      totalSteps: shape.steps.length,
      currentStepIndex: restarting ? 0 : Math.min(state.currentStepIndex, shape.steps.length - 1),
      completedSteps: restarting ? [] : state.completedSteps,
      skippedSteps: restarting ? [] : state.skippedSteps,
      startedAt: restarting || !state.startedAt ? now : state.startedAt,
      completedAt: null,
      lastInteractionAt: now,
      deviceType: command.deviceType ?? state.deviceType,
      viewportSize: command.viewportSize ?? state.viewportSize,
      version: state.version + 1,
    };
    return {
      state: next,
      events: [
        ...(resumed ? [] : [{ type: 'tour_started' as const, stepIndex: 0, stepKey: stepKey(0) }]),
        { type: 'step_viewed', stepIndex: next.currentStepIndex, stepKey: stepKey(next.currentStepIndex) },
      ],
      noop: false,
    };
  }

  const index = state.currentStepIndex;
  let next: TourState = {
    ...state,
    lastInteractionAt: now,
    totalTimeMs: state.totalTimeMs + (command.interactionTimeMs ?? 0),
    version: state.version + 1,
  };
  const events: Transition['events'] = [];

  const finishAfter = (s: TourState): TourState => {
    const allSkipped = s.completedSteps.length === 0;
    return { ...s, status: allSkipped ? 'skipped_all' : 'completed', completedAt: now };
  };

  switch (command.action) {
    case 'next_step': {
      next = {
        ...next,
        completedSteps: withIndex(next.completedSteps, index),
        skippedSteps: withoutIndex(next.skippedSteps, index),
      };
      events.push({ type: 'step_completed', stepIndex: index, stepKey: stepKey(index) });
      if (index + 1 >= shape.steps.length) {
        next = { ...next, status: 'completed', completedAt: now };
        events.push({ type: 'tour_completed', stepIndex: index, stepKey: stepKey(index) });
      } else {
        next = { ...next, currentStepIndex: index + 1 };
        events.push({ type: 'step_viewed', stepIndex: index + 1, stepKey: stepKey(index + 1) });
      }
      break;
    }
    case 'previous_step':
      next = { ...next, currentStepIndex: index - 1 };
      events.push({ type: 'step_viewed', stepIndex: index - 1, stepKey: stepKey(index - 1) });
      break;
    case 'skip_step': {
      next = { ...next, skippedSteps: withIndex(next.skippedSteps, index) };
      events.push({ type: 'step_skipped', stepIndex: index, stepKey: stepKey(index) });
      if (index + 1 >= shape.steps.length) {
        next = finishAfter(next);
        if (next.status === 'completed') events.push({ type: 'tour_completed', stepIndex: index, stepKey: stepKey(index) });
      } else {
        next = { ...next, currentStepIndex: index + 1 };
        events.push({ type: 'step_viewed', stepIndex: index + 1, stepKey: stepKey(index + 1) });
      }
      break;
    }
    case 'complete_tour':
      next = {
        ...next,
        status: 'completed',
        completedAt: now,
        completedSteps: withIndex(next.completedSteps, index),
        skippedSteps: withoutIndex(next.skippedSteps, index),
      };
      events.push({ type: 'tour_completed', stepIndex: index, stepKey: stepKey(index) });
      break;
    case 'abandon_tour':
      next = { ...next, status: 'abandoned' };
      events.push({ type: 'tour_abandoned', stepIndex: index, stepKey: stepKey(index) });
      break;
  }

  if (command.feedback && Object.keys(command.feedback).length > 0) {
    next = { ...next, feedback: { ...next.feedback, ...command.feedback } };
    events.push({ type: 'feedback_submitted', stepIndex: index, stepKey: stepKey(index) });
  }
  return { state: next, events, noop: false };
}

/** The shape the state machine needs, from a definition's steps as stored. */
export function shapeOf(tourId: string, name: string, steps: { step_key: string; skip_enabled: boolean }[]): TourShape {
  return { tourId, name, steps: steps.map((s) => ({ key: s.step_key, skippable: s.skip_enabled })) };
}

export function completionPercentage(state: Pick<TourState, 'status' | 'currentStepIndex' | 'totalSteps'>): number {
  if (state.totalSteps === 0) return 0;
  if (isFinished(state.status)) return 100;
  return Math.round((state.currentStepIndex / state.totalSteps) * 100);
}
