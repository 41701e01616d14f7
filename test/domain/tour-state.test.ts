import {
  apply,
  completionPercentage,
  initialState,
  validate,
  type TourCommand,
  type TourShape,
  type TourState,
} from '../../domain/tour-state';

const NOW = '2026-11-23T12:00:00.000Z';
const shape: TourShape = {
  tourId: 't',
  name: 'Welcome',
  steps: [
    { key: 'welcome', skippable: false },
    { key: 'timeline', skippable: true },
    { key: 'guests', skippable: true },
  ],
};

function fresh(): TourState {
  return initialState({ progressId: 'p', orgId: 'o', userId: 'u' }, shape);
}

function run(state: TourState, ...commands: TourCommand[]): TourState {
  return commands.reduce((s, c) => apply(s, shape, c, NOW).state, state);
}

const start: TourCommand = { kind: 'start' };
const act = (action: TourCommand & { kind: 'advance' } extends infer A ? A extends { action: infer X } ? X : never : never, extra = {}): TourCommand => ({
  kind: 'advance',
  action,
  ...extra,
});

describe('tour state machine', () => {
  it('starts a tour at step 0 with version 1 and records tour_started and step_viewed', () => {
    const t = apply(fresh(), shape, start, NOW);
    expect(t.state).toMatchObject({ status: 'in_progress', currentStepIndex: 0, version: 1, startedAt: NOW });
    expect(t.events.map((e) => e.type)).toEqual(['tour_started', 'step_viewed']);
  });

  it('treats a second start of a running tour as a no-op', () => {
    const s = run(fresh(), start);
    const t = apply(s, shape, start, NOW);
    expect(t.noop).toBe(true);
    expect(t.state.version).toBe(1);
  });

  it('completes the tour when next_step leaves the last step', () => {
    const s = run(fresh(), start, act('next_step'), act('next_step'), act('next_step'));
    expect(s).toMatchObject({ status: 'completed', completedSteps: [0, 1, 2], completedAt: NOW, version: 4 });
    expect(completionPercentage(s)).toBe(100);
  });

  it('moves back with previous_step and refuses it on the first step with 422 no_previous_step', () => {
    const s = run(fresh(), start);
    expect(validate(s, shape, act('previous_step'))?.code).toBe('no_previous_step');
    const moved = run(s, act('next_step'), act('previous_step'));
    expect(moved.currentStepIndex).toBe(0);
  });

  it('skips a skippable step and refuses an unskippable one', () => {
    const s = run(fresh(), start);
    expect(validate(s, shape, act('skip_step'))?.code).toBe('step_not_skippable');
    const skipped = run(s, act('next_step'), act('skip_step'));
    expect(skipped).toMatchObject({ currentStepIndex: 2, skippedSteps: [1] });
  });

  it('ends as skipped_all when every step was skipped', () => {
    const allSkippable: TourShape = { ...shape, steps: shape.steps.map((s) => ({ ...s, skippable: true })) };
    let s = apply(fresh(), allSkippable, start, NOW).state;
    for (let i = 0; i < 3; i++) s = apply(s, allSkippable, act('skip_step'), NOW).state;
    expect(s.status).toBe('skipped_all');
  });

  it('removes a step from skipped_steps once it is completed', () => {
    const s = run(fresh(), start, act('next_step'), act('skip_step'), act('previous_step'), act('complete_tour'));
    expect(s.skippedSteps).toEqual([]);
    expect(s.completedSteps).toEqual([0, 1]);
  });

  it('abandons a running tour and resumes it on the same step without a new tour_started', () => {
    const abandoned = run(fresh(), start, act('next_step'), act('abandon_tour'));
    expect(abandoned.status).toBe('abandoned');
    const resumed = apply(abandoned, shape, start, NOW);
    expect(resumed.state).toMatchObject({ status: 'in_progress', currentStepIndex: 1 });
    expect(resumed.events.map((e) => e.type)).toEqual(['step_viewed']);
  });

  it('refuses any action on a completed tour with tour_already_finished', () => {
    const done = run(fresh(), start, act('complete_tour'));
    for (const action of ['next_step', 'previous_step', 'skip_step', 'complete_tour', 'abandon_tour'] as const) {
      expect(validate(done, shape, act(action))?.code).toBe('tour_already_finished');
    }
    expect(validate(done, shape, start)?.code).toBe('tour_already_finished');
  });

  it('restarts a finished tour from step 0 only when asked', () => {
    const done = run(fresh(), start, act('complete_tour'));
    const again = apply(done, shape, { kind: 'start', restart: true }, NOW).state;
    expect(again).toMatchObject({ status: 'in_progress', currentStepIndex: 0, completedSteps: [], completedAt: null, version: 3 });
  });

  it('refuses actions before the tour is started with tour_not_started', () => {
    expect(validate(fresh(), shape, act('next_step'))?.code).toBe('tour_not_started');
  });

  it('rejects a step index past the last step with step_index_out_of_range', () => {
    const s = run(fresh(), start);
    expect(validate(s, shape, act('next_step', { stepIndex: 3 }))?.code).toBe('step_index_out_of_range');
    expect(validate(s, shape, act('next_step', { stepIndex: -1 }))?.code).toBe('step_index_out_of_range');
  });

  it('rejects a step index or key that is not the current step with step_mismatch, and an unknown key', () => {
    const s = run(fresh(), start);
    expect(validate(s, shape, act('next_step', { stepIndex: 1 }))?.code).toBe('step_mismatch');
    expect(validate(s, shape, act('next_step', { stepKey: 'guests' }))?.code).toBe('step_mismatch');
    expect(validate(s, shape, act('next_step', { stepKey: 'nope' }))?.code).toBe('unknown_step_key');
    expect(validate(s, shape, act('next_step', { stepIndex: 0, stepKey: 'welcome' }))).toBeNull();
  });

  it('refuses a stale expected version with version_conflict', () => {
    const s = run(fresh(), start, act('next_step'));
    expect(validate(s, shape, act('next_step', { expectedVersion: 1 }))).toMatchObject({
      code: 'version_conflict',
      details: { expected_version: 1, current_version: 2 },
    });
    expect(validate(s, shape, act('next_step', { expectedVersion: 2 }))).toBeNull();
  });

  it('accumulates interaction time and keeps feedback', () => {
    const s = run(
      fresh(),
      start,
      act('next_step', { interactionTimeMs: 1500 }),
      act('complete_tour', { interactionTimeMs: 2600, feedback: { rating: 5, wasHelpful: true } }),
    );
    expect(s.totalTimeMs).toBe(4100);
    expect(s.feedback).toEqual({ rating: 5, wasHelpful: true });
  });

  it('refuses a rating outside 1..5', () => {
    const s = run(fresh(), start);
    expect(validate(s, shape, act('next_step', { feedback: { rating: 6 } }))?.code).toBe('invalid_feedback');
  });

  it('refuses to start a tour with no steps', () => {
    const empty: TourShape = { ...shape, steps: [] };
    expect(validate(initialState({ progressId: 'p', orgId: 'o', userId: 'u' }, empty), empty, start)?.code).toBe('tour_has_no_steps');
  });

  it('never lets apply() run a command validate() refuses', () => {
    expect(() => apply(fresh(), shape, act('next_step'), NOW)).toThrow(/invalid command/);
  });
});
