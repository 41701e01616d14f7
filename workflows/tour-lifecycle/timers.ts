/**
 * The tour's follow-ups (abandonment, re-engagement, check-ins) are plain data, scheduled by
 * domain/follow-ups.ts and carried across continue-as-new; one Alarm wakes the main loop for the
 * earliest of them. This file turns a due follow-up into what it raises.
 */
import { CancellationScope, sleep } from '@temporalio/workflow';
import type { FollowUp, FollowUpSettings } from '../../domain/follow-ups';
import { reschedule } from '../../domain/follow-ups';
import type { HubEventDraft } from '../../domain/hub';
import type { TourState } from '../../domain/tour-state';

/**
 * How long an overdue abandonment waits in a run re-created from Postgres, so the move that re-created
 * the run (waiting just behind the load) lands first.
 */
const RECREATED_GRACE_MS = 60_000;

/** Splits the follow-ups into those due at `now` and those still waiting. */
export function takeDue(followUps: readonly FollowUp[], now: number): { due: FollowUp[]; waiting: FollowUp[] } {
  return { due: followUps.filter((f) => f.dueAt <= now), waiting: followUps.filter((f) => f.dueAt > now) };
}

/**
 * A run re-created from Postgres books only the abandonment of an active tour: re-engagement and
 * check-ins belonged to the run that made that transition.
 */
export function followUpsOnRecreate(state: TourState, settings: FollowUpSettings, now: number): FollowUp[] {
  if (state.status !== 'in_progress') return [];
  return reschedule([], null, state, settings, now).map((f) => ({ ...f, dueAt: Math.max(f.dueAt, now + RECREATED_GRACE_MS) }));
}

/**
 * The hub event a due re-engagement or check-in raises. Its id derives from the transition that booked
 * it, so it never repeats. (A due abandonment is a transition of the tour instead: see workflow.ts.)
 */
export function followUpEvent(f: Exclude<FollowUp, { kind: 'abandon' }>, workflowId: string, at: string): HubEventDraft {
  switch (f.kind) {
    case 're_engagement':
      return { eventId: `${workflowId}:${f.version}.re-engagement`, type: 're_engagement_due', occurredAt: at };
    case 'check_in':
      return {
        eventId: `${workflowId}:${f.version}.check-in-${f.number}`,
        type: 'check_in_due',
        occurredAt: at,
        checkIn: { number: f.number, of: f.of, at: new Date(f.slotAt).toISOString() },
      };
  }
}

/** "check-in 2 of 4", "re-engagement", "abandon": how the details name a timer. */
export function describeFollowUp(f: FollowUp): string {
  return f.kind === 'check_in' ? `check-in ${f.number} of ${f.of}` : f.kind.replace('_', '-');
}

/**
 * One timer for the main loop, set to ring no later than the earliest deadline. A later deadline keeps
 * the running timer (ringing early only makes the loop look again); an earlier one replaces it. So a
 * burst of steps costs one timer, not one per step.
 */
export class Alarm {
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
