import { isCancellation, log, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { DeliveryRetry, PlannedDelivery } from '../../domain/hub';
import { deathCode, deathReason, deliverThroughBreaker, deliverySummary, HeldBack } from '../deliveries';
import type { DeadDelivery, HubCarried } from './messages';

/**
 * A dead letter that is not recorded would be lost from the operators' view: keep trying through a
 * Postgres outage, up to its bound (DB_OUTAGE_MAX_WAIT). The interval stays under the local retry
 * threshold, so waiting adds no timers to the history.
 */
export function deadLetter(outageMaxWaitMs: number) {
  return proxyLocalActivities<Activities>({
    startToCloseTimeout: '10 seconds',
    scheduleToCloseTimeout: outageMaxWaitMs,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  }).markDeliveryDead;
}

/** How many dead deliveries the details keep; the full list is GET /api/integrations/deliveries. */
const DEAD_SHOWN = 20;

export interface LaneHooks {
  /** The retry policy of this tour's deliveries (known once the tour is loaded, before any delivery). */
  retry(): DeliveryRetry;
  /** How long recording a dead delivery may wait out a Postgres outage. */
  outageMaxWaitMs(): number;
  /** A delivery finished (delivered or dead): the details change. */
  onDelivered(): void;
  /** A lane stopped (empty, or drained for a rollover): the main loop has something to look at. */
  onStopped(): void;
}

/**
 * One lane per integration: its deliveries go one at a time, in order, so a CRM never sees completion
 * before start, while different integrations proceed side by side. A delivery that runs out of retries
 * goes to the dead list (and the dead letter, for a replay) and is out of the way of those behind it.
 */
export class DeliveryLanes {
  private readonly lanes = new Map<string, PlannedDelivery[]>();
  private readonly running = new Set<string>();
  private stopping = false;
  delivered: number;
  readonly dead: DeadDelivery[];

  constructor(
    carried: Pick<HubCarried, 'pending' | 'delivered' | 'dead'> | undefined,
    private readonly hooks: LaneHooks,
  ) {
    for (const d of carried?.pending ?? []) this.laneOf(d.integrationId).push(d);
    this.delivered = carried?.delivered ?? 0;
    this.dead = carried?.dead ?? [];
  }

  /** Starts the lanes carried over from the previous run. */
  resume(): void {
    for (const id of this.lanes.keys()) this.kick(id);
  }

  enqueue(planned: PlannedDelivery[]): void {
    for (const d of planned) this.laneOf(d.integrationId).push(d);
    for (const id of new Set(planned.map((d) => d.integrationId))) this.kick(id);
  }

  /** Rolling over: lanes finish their current call and start no other; the rest is carried. */
  drain(): void {
    this.stopping = true;
  }

  get draining(): boolean {
    return this.stopping;
  }

  /** No call in flight. */
  get idle(): boolean {
    return this.running.size === 0;
  }

  /** Nothing in flight and nothing waiting. */
  get empty(): boolean {
    return this.lanes.size === 0 && this.running.size === 0;
  }

  pending(): PlannedDelivery[] {
    return [...this.lanes.values()].flat();
  }

  isRunning(integrationId: string): boolean {
    return this.running.has(integrationId);
  }

  carry(): Pick<HubCarried, 'pending' | 'delivered' | 'dead'> {
    return { pending: this.pending(), delivered: this.delivered, dead: this.dead };
  }

  private laneOf(integrationId: string): PlannedDelivery[] {
    let lane = this.lanes.get(integrationId);
    if (!lane) this.lanes.set(integrationId, (lane = []));
    return lane;
  }

  private kick(integrationId: string): void {
    if (this.running.has(integrationId) || this.stopping) return;
    this.running.add(integrationId);
    void (async () => {
      const lane = this.laneOf(integrationId);
      while (lane.length > 0 && !this.stopping) {
        // Not done: held back by the breaker while the run rolls over; it stays first and is carried.
        if (!(await this.deliverOne(lane[0]!))) break;
        lane.shift();
        this.hooks.onDelivered();
      }
      if (lane.length === 0) this.lanes.delete(integrationId);
    })()
      .catch((err) => {
        // Only a cancellation of the whole workflow gets here (deliverOne keeps everything else).
        if (!isCancellation(err)) log.error('Delivery lane stopped', { integrationId, error: String(err) });
      })
      .finally(() => {
        this.running.delete(integrationId);
        this.hooks.onStopped();
      });
  }

  /** Delivers one call (or sends it to the dead list); false when it was held back and must be carried. */
  private async deliverOne(d: PlannedDelivery): Promise<boolean> {
    try {
      await deliverThroughBreaker(d, this.hooks.retry(), () => this.stopping);
      this.delivered++;
    } catch (err) {
      if (isCancellation(err)) throw err;
      if (err instanceof HeldBack) return false;
      // Dead: recorded for a replay, and out of the way of the deliveries behind it.
      const reason = deathReason(err);
      this.dead.push({ idempotencyKey: d.idempotencyKey, summary: deliverySummary(d), reason: deathCode(err) });
      if (this.dead.length > DEAD_SHOWN) this.dead.splice(0, this.dead.length - DEAD_SHOWN);
      try {
        await deadLetter(this.hooks.outageMaxWaitMs())({ idempotencyKey: d.idempotencyKey, integrationId: d.integrationId, error: reason });
      } catch (markErr) {
        if (isCancellation(markErr)) throw markErr;
        log.error('Could not record a dead delivery', { idempotencyKey: d.idempotencyKey, error: String(markErr) });
      }
    }
    return true;
  }
}
