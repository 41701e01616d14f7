/**
 * The timers a tour keeps after each transition, as plain data (epoch milliseconds), so the workflow can
 * carry them across continue-as-new and a test can check the schedule without a server. Pure: `now` is
 * passed in.
 */
import type { TourState } from './tour-state';

export interface FollowUpSettings {
  /** Inactivity after which an in-progress tour is abandoned (per tour; seed default 7 days). */
  abandonAfterMs: number;
  /** Delay from abandonment to the re-engagement email (24 hours). */
  reengageAfterMs: number;
  /** When each check-in takes place, measured from completion (1, 7, 14 and 30 days). */
  checkInAfterMs: number[];
  /** How long before its slot each check-in is booked, so the invitation arrives in time. */
  checkInLeadMs: number;
}

export type FollowUp =
  | { kind: 'abandon'; dueAt: number }
  /** `version` is the abandonment's: any later transition (a resume) makes it void. */
  | { kind: 're_engagement'; dueAt: number; version: number }
  | { kind: 'check_in'; dueAt: number; version: number; number: number; of: number; slotAt: number };

const ms = (iso: string | null, fallback: number) => (iso ? Date.parse(iso) : fallback);

/**
 * The follow-ups after `after`, given those kept before. An active tour has exactly one abandonment
 * deadline, moved by every interaction; leaving in_progress clears it; abandoning books the
 * re-engagement; completing books the check-ins; any other transition (a resume, a restart) cancels
 * what the previous status booked.
 */
export function reschedule(kept: readonly FollowUp[], before: TourState | null, after: TourState, settings: FollowUpSettings, now: number): FollowUp[] {
  if (before && before.version === after.version) return [...kept];
  if (before && before.status === after.status && after.status !== 'in_progress') {
    // Feedback on a finished tour: what its completion booked still stands, under the new version (a
    // follow-up applies only at the version it names), so no check-in is booked twice or dropped.
    return kept.map((f) => (f.kind === 'abandon' ? f : { ...f, version: after.version }));
  }
  switch (after.status) {
    case 'in_progress':
      return [{ kind: 'abandon', dueAt: ms(after.lastInteractionAt, now) + settings.abandonAfterMs }];
    case 'abandoned':
      return [{ kind: 're_engagement', dueAt: now + settings.reengageAfterMs, version: after.version }];
    case 'completed': {
      const completedAt = ms(after.completedAt, now);
      const of = settings.checkInAfterMs.length;
      return settings.checkInAfterMs.map((after_, i) => ({
        kind: 'check_in' as const,
        dueAt: Math.max(completedAt, completedAt + after_ - settings.checkInLeadMs),
        version: after.version,
        number: i + 1,
        of,
        slotAt: completedAt + after_,
      }));
    }
    default:
      return [];
  }
}

/** A follow-up still applies only while the tour is where it was when the follow-up was booked. */
export function stillApplies(f: FollowUp, state: TourState, abandonAfterMs: number, now: number): boolean {
  switch (f.kind) {
    case 'abandon':
      return state.status === 'in_progress' && ms(state.lastInteractionAt, now) + abandonAfterMs <= now;
    case 're_engagement':
      return state.status === 'abandoned' && state.version === f.version;
    case 'check_in':
      return state.status === 'completed' && state.version === f.version;
  }
}

/** The earliest time anything is due, or undefined when nothing is booked. */
export function nextDue(followUps: readonly FollowUp[]): number | undefined {
  let next: number | undefined;
  for (const f of followUps) if (next === undefined || f.dueAt < next) next = f.dueAt;
  return next;
}
