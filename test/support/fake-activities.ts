import { ApplicationFailure } from '@temporalio/common';
import type { Activities, LoadTourInput, LoadTourResult, PersistTransitionInput } from '../../activities';
import type { Category, HubEvent, HubPerson, HubSettings, PlannedDelivery } from '../../domain/hub';
import { idempotencyKey, plan, routeOptions, type StoredRouteSettings } from '../../domain/routes';
import type { TourShape, TourState } from '../../domain/tour-state';

/** An integration as the fake planner sees it: the real route table decides what it is sent. */
export interface FakeIntegration {
  id: string;
  provider: string;
  category: Category;
  settings?: StoredRouteSettings;
}

export const FAKE_PERSON: HubPerson = { email: 'ava@example.com', firstName: 'Ava', lastName: 'Reed', phone: '+15005550006', externalId: 'u' };

/** Settings for tests: timers of seconds, retries of milliseconds. Override per test. */
export const FAST_HUB: HubSettings = {
  retry: { initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 400, maximumAttempts: 6, maximumTimeMs: 60_000, attemptTimeoutMs: 10_000 },
  abandonAfterMs: 3_600_000,
  reengageAfterMs: 3_600_000,
  checkInAfterMs: [],
  checkInLeadMs: 0,
};

/**
 * In-memory stand-ins for the worker's activities, with switches to make persistence fail. Planning
 * runs the real route table over the given integrations, so workflow tests see the seed's actions.
 */
export function fakeActivities(
  shape: TourShape | null,
  opts: {
    stored?: TourState;
    hub?: Partial<HubSettings>;
    integrations?: FakeIntegration[];
    person?: HubPerson;
    /** Published versions by number: a load that asks for a run gets that version's steps it names. */
    versions?: Record<number, TourShape>;
  } = {},
) {
  const writes: PersistTransitionInput[] = [];
  const loads: LoadTourInput[] = [];
  const planned: PlannedDelivery[] = [];
  const deadMarks: { idempotencyKey: string; error: string }[] = [];
  let stored: TourState | undefined = opts.stored;
  let failuresLeft = 0;
  const hub: HubSettings = { ...FAST_HUB, ...opts.hub };
  const activities: Activities = {
    async loadTour(input): Promise<LoadTourResult> {
      loads.push(input);
      const version = input.run ? opts.versions?.[input.run.version] : undefined;
      if (input.run && version) {
        const keys = new Set(input.run.stepKeys);
        return { shape: { ...version, version: input.run.version, steps: version.steps.filter((s) => keys.has(s.key)) }, progress: stored ?? null, hub };
      }
      return { shape, progress: stored ?? null, hub };
    },
    async persistTransition(input) {
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error('database is down');
      }
      writes.push(input);
      const written = !stored || stored.version < input.state.version;
      if (written) stored = input.state;
      return { written };
    },
    async planDeliveries(input) {
      const out: PlannedDelivery[] = [];
      for (const draft of input.events) {
        const event: HubEvent = { ...draft, orgId: input.orgId, userId: input.userId, tourId: input.tourId, tourName: input.tourName, progressId: input.progressId, person: opts.person ?? FAKE_PERSON };
        for (const i of opts.integrations ?? []) {
          plan(i.category, event, routeOptions(i.settings ?? {}, 'UTC')).forEach((action, index) => {
            out.push({
              workflowId: input.workflowId,
              eventId: event.eventId,
              eventType: event.type,
              integrationId: i.id,
              idempotencyKey: idempotencyKey(event.eventId, i.id, action.method, index),
              action,
              provider: i.provider,
              category: i.category,
            });
          });
        }
      }
      // Planning twice (a retried local activity) must not plan twice.
      for (const d of out) if (!planned.some((p) => p.idempotencyKey === d.idempotencyKey)) planned.push(d);
      return out;
    },
    async markDeliveryDead(input) {
      deadMarks.push({ idempotencyKey: input.idempotencyKey, error: input.error });
    },
    async loadReplay({ deliveryId }) {
      // The fake's delivery ids are idempotency keys.
      const delivery = planned.find((p) => p.idempotencyKey === deliveryId);
      if (!delivery) throw ApplicationFailure.nonRetryable(`No delivery ${deliveryId}`, 'delivery_not_found');
      return { delivery, retry: hub.retry };
    },
  };
  return {
    activities,
    writes,
    loads,
    planned,
    deadMarks,
    stored: () => stored,
    failNext(n: number) {
      failuresLeft = n;
    },
  };
}
