/**
 * What the outside sees of a tour's run: its rows in Postgres (flushed in bursts, and before the run
 * closes or continues as new), its search attributes (status and step, for operators' queries) and its
 * current details (markdown in the Temporal UI: progress, deliveries, timers).
 */
import { proxyLocalActivities, setCurrentDetails, upsertSearchAttributes, type LocalActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { RecordedEvent } from '../../domain/events';
import type { FollowUp } from '../../domain/follow-ups';
import type { PlannedDelivery } from '../../domain/hub';
import type { TourState } from '../../domain/tour-state';
import { deliverySummary } from '../deliveries';
import { outageReason } from '../outage';
import { TourStatus, TourStepIndex } from '../search-attributes';
import type { DeadDelivery } from './messages';
import { describeFollowUp } from './timers';

/** The tour's own reads and writes of Postgres: local activities, no task-queue round trip. */
export const DB_ACTIVITY_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '5 seconds',
  retry: { initialInterval: '50 ms', backoffCoefficient: 2, maximumInterval: '2 seconds', maximumAttempts: 6 },
};

const { persistTransition } = proxyLocalActivities<Activities>(DB_ACTIVITY_OPTIONS);

/** How long accepted moves may wait for the workflow's own write (the API has written them already). */
export const FLUSH_AFTER_MS = 30_000;
/** After a failed write (Postgres down), when to try again. */
const RETRY_FLUSH_AFTER_MS = 10_000;

/** What the details show of the delivery lanes. */
export interface LanesView {
  readonly delivered: number;
  readonly dead: readonly DeadDelivery[];
  pending(): PlannedDelivery[];
  isRunning(integrationId: string): boolean;
}

export class Projection {
  /** Events accepted since the last flush. */
  private unflushed: RecordedEvent[] = [];
  /** What the search attributes say now, so they are upserted only when they would change. */
  private shown: { status: string; step: number } | undefined;
  /** Highest version that reached Postgres; a gap means the main loop must write. */
  private persistedVersion: number;
  /** When the unflushed events must reach Postgres at the latest: one deadline per burst, not per step. */
  private flushBy: number | undefined;
  /** What the run is waiting on Postgres for, shown first in the details until it answers. */
  private waiting: string | undefined;

  constructor(
    private readonly workflowId: string,
    private readonly current: () => TourState | null,
    private readonly details: (state: TourState, waiting: string | undefined) => string,
  ) {
    this.persistedVersion = current()?.version ?? 0;
  }

  /** The state was read from Postgres: nothing of it is owed. */
  loaded(): void {
    this.persistedVersion = this.current()?.version ?? 0;
  }

  behind(): boolean {
    const state = this.current();
    return state !== null && state.version > this.persistedVersion;
  }

  /** A transition was accepted: its events wait for the flush, and a burst of moves gets one deadline. */
  accepted(events: RecordedEvent[]): void {
    const state = this.current()!;
    this.unflushed.push(...events);
    this.flushBy ??= Date.now() + FLUSH_AFTER_MS;
    // A status change is what operators search for: show it now. The step index waits for the flush.
    if (this.shown?.status !== state.status) this.show();
    else this.refresh();
  }

  flushDue(now: number): boolean {
    return this.flushBy !== undefined && this.flushBy <= now;
  }

  /** When the main loop must wake up to flush, if anything is owed. */
  wakeAt(): number | undefined {
    return this.behind() ? this.flushBy : undefined;
  }

  /**
   * Writes what was accepted since the last flush. On failure the events go back in front of any newer
   * ones and the next try is booked shortly; moves accepted during the write get a new deadline.
   */
  async flush(): Promise<void> {
    const batch = this.unflushed;
    const snapshot = this.current()!;
    this.unflushed = [];
    try {
      await persistTransition({ workflowId: this.workflowId, state: snapshot, events: batch });
      this.persistedVersion = Math.max(this.persistedVersion, snapshot.version);
      const state = this.current()!;
      if (this.shown?.step !== state.currentStepIndex || this.shown?.status !== state.status) this.show();
      this.flushBy = this.behind() ? Date.now() + FLUSH_AFTER_MS : undefined;
      if (this.waiting?.startsWith(WRITING)) this.waitingFor(undefined);
    } catch (err) {
      this.unflushed = [...batch, ...this.unflushed];
      this.flushBy = Date.now() + RETRY_FLUSH_AFTER_MS;
      this.waitingFor(`${WRITING}: ${outageReason(err)} (next try in ${RETRY_FLUSH_AFTER_MS / 1000} s)`);
    }
  }

  /** Postgres did not answer (a reason), or answered again (undefined): the details say so. */
  waitingFor(reason: string | undefined): void {
    if (reason === this.waiting) return;
    this.waiting = reason;
    this.refresh();
  }

  /** Search attributes and details, now. */
  show(): void {
    const state = this.current()!;
    upsertSearchAttributes([
      { key: TourStatus, value: state.status },
      { key: TourStepIndex, value: state.currentStepIndex },
    ]);
    this.shown = { status: state.status, step: state.currentStepIndex };
    setCurrentDetails(this.details(state, this.waiting));
  }

  /** Details only (deliveries or timers moved). */
  refresh(): void {
    const state = this.current();
    if (state) setCurrentDetails(this.details(state, this.waiting));
  }
}

const WRITING = 'writing progress';

/** The run's current details in the Temporal UI (markdown). Ids and counts only: no personal data. */
export function currentDetails(state: TourState, lanes: LanesView, followUps: readonly FollowUp[], waiting?: string): string {
  const pending = lanes.pending();
  return [
    ...(waiting ? [`**Waiting for Postgres:** ${waiting}`, ''] : []),
    `**Status:** ${state.status}`,
    `**Step:** ${Math.min(state.currentStepIndex + 1, state.totalSteps)} of ${state.totalSteps}`,
    `**Completed steps:** ${state.completedSteps.join(', ') || 'none'}`,
    `**Skipped steps:** ${state.skippedSteps.join(', ') || 'none'}`,
    `**Version:** ${state.version}`,
    ...(state.tourVersion != null ? [`**Tour version:** ${state.tourVersion} (${state.stepKeys?.length ?? state.totalSteps} steps)`] : []),
    ...(state.abTest ? [`**A/B test:** ${state.abTest.testId}, variant ${state.abTest.variant}`] : []),
    `**Progress id:** ${state.progressId}`,
    '',
    `**Deliveries:** ${lanes.delivered} delivered, ${pending.length} pending, ${lanes.dead.length} dead`,
    ...pending.slice(0, 10).map((d, i) => `- ${i === 0 || !lanes.isRunning(d.integrationId) ? 'pending' : 'queued'}: ${deliverySummary(d)}`),
    // A run carried over from before codes were kept may hold a provider's message: show none of it.
    ...lanes.dead.slice(-10).map((d) => `- **dead**: ${d.summary}: ${/^[\w.-]{1,64}$/.test(d.reason) ? d.reason : 'failed'}`),
    ...followUps
      .slice()
      .sort((a, b) => a.dueAt - b.dueAt)
      .map((f) => `- timer: ${describeFollowUp(f)} at ${new Date(f.dueAt).toISOString()}`),
  ].join('\n');
}
