import { nextDue, reschedule, stillApplies, type FollowUpSettings } from '../../domain/follow-ups';
import type { TourState } from '../../domain/tour-state';

const H = 3_600_000;
const D = 24 * H;
const settings: FollowUpSettings = { abandonAfterMs: 7 * D, reengageAfterMs: D, checkInAfterMs: [D, 7 * D, 14 * D, 30 * D], checkInLeadMs: D };
const t0 = Date.parse('2026-11-23T15:00:00.000Z');

const state = (over: Partial<TourState>): TourState => ({
  progressId: 'p', orgId: 'o', userId: 'u', tourId: 't', status: 'in_progress', currentStepIndex: 0, completedSteps: [], skippedSteps: [],
  totalSteps: 3, version: 1, startedAt: null, completedAt: null, lastInteractionAt: new Date(t0).toISOString(), totalTimeMs: 0, feedback: {},
  deviceType: null, viewportSize: null, ...over,
});

describe('tour follow-up timers', () => {
  it('keeps one abandonment deadline for an active tour, moved by each interaction', () => {
    const first = reschedule([], null, state({}), settings, t0);
    expect(first).toEqual([{ kind: 'abandon', dueAt: t0 + 7 * D }]);
    const later = state({ version: 2, lastInteractionAt: new Date(t0 + H).toISOString() });
    expect(reschedule(first, state({}), later, settings, t0 + H)).toEqual([{ kind: 'abandon', dueAt: t0 + H + 7 * D }]);
  });

  it('books re-engagement on abandonment and nothing else', () => {
    const abandoned = state({ status: 'abandoned', version: 4 });
    expect(reschedule([{ kind: 'abandon', dueAt: 1 }], state({ version: 3 }), abandoned, settings, t0)).toEqual([{ kind: 're_engagement', dueAt: t0 + D, version: 4 }]);
  });

  it('books the check-in series from completion, each a lead time before its slot (never before completion)', () => {
    const done = state({ status: 'completed', version: 5, completedAt: new Date(t0).toISOString() });
    const series = reschedule([], state({ version: 4 }), done, settings, t0);
    expect(series.map((f) => f.kind === 'check_in' && [f.number, f.of, (f.dueAt - t0) / D, (f.slotAt - t0) / D])).toEqual([
      [1, 4, 0, 1],
      [2, 4, 6, 7],
      [3, 4, 13, 14],
      [4, 4, 29, 30],
    ]);
    expect(nextDue(series)).toBe(t0);
  });

  it('cancels what a status booked when the tour moves on (a resume, a restart), and skipping everything books nothing', () => {
    const reengagement = [{ kind: 're_engagement' as const, dueAt: t0 + D, version: 4 }];
    const resumed = state({ status: 'in_progress', version: 5 });
    expect(reschedule(reengagement, state({ status: 'abandoned', version: 4 }), resumed, settings, t0).map((f) => f.kind)).toEqual(['abandon']);
    expect(reschedule(reengagement, state({ version: 4 }), state({ status: 'skipped_all', version: 5 }), settings, t0)).toEqual([]);
    // A no-op (same version) keeps everything as it was.
    expect(reschedule(reengagement, state({ version: 4 }), state({ version: 4 }), settings, t0)).toEqual(reengagement);
  });

  it('fires a timer only while the tour is still where it was when it was booked', () => {
    expect(stillApplies({ kind: 're_engagement', dueAt: 0, version: 4 }, state({ status: 'abandoned', version: 4 }), settings.abandonAfterMs, t0)).toBe(true);
    expect(stillApplies({ kind: 're_engagement', dueAt: 0, version: 4 }, state({ status: 'abandoned', version: 6 }), settings.abandonAfterMs, t0)).toBe(false);
    expect(stillApplies({ kind: 'check_in', dueAt: 0, version: 5, number: 1, of: 4, slotAt: 0 }, state({ status: 'in_progress', version: 6 }), settings.abandonAfterMs, t0)).toBe(false);
    expect(stillApplies({ kind: 'abandon', dueAt: 0 }, state({}), settings.abandonAfterMs, t0 + 7 * D - 1)).toBe(false);
    expect(stillApplies({ kind: 'abandon', dueAt: 0 }, state({}), settings.abandonAfterMs, t0 + 7 * D)).toBe(true);
  });
});
