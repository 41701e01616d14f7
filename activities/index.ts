import { ApplicationFailure } from '@temporalio/common';
import type { HubConfig } from '../config';
import type { Db } from '../db/knex';
import { actionAad, findDelivery, insertSkipped, markDead, planWithRepeatRule } from '../db/repositories/deliveries';
import { assessHealth, type HealthThresholds } from '../db/repositories/health';
import { findIntegration, listActiveIntegrations } from '../db/repositories/integrations';
import { loadHubContext, loadProgressFacts } from '../db/repositories/organizations';
import { insertOutboundEvents, TOUR_EVENT_DEDUPE_PREFIX, type NewOutboundEvent } from '../db/repositories/outbound-events';
import { findProgressFor, rowToState, saveTransition } from '../db/repositories/progress';
import { loadRunShape } from '../db/repositories/tour-versions';
import type { SecretBox } from '../db/secrets';
import type { RecordedEvent } from '../domain/events';
import { ONCE_PER_WINDOW_EVENTS, type Category, type DeliveryRetry, type HubEvent, type HubEventDraft, type HubSettings, type PlannedAction, type PlannedDelivery } from '../domain/hub';
import { idempotencyKey, planRoute, routeOptions, SKIP_REASONS } from '../domain/routes';
import { OUTBOUND_TYPE_OF_HUB_EVENT } from '../domain/webhooks';
import type { TourRun, TourShape, TourState } from '../domain/tour-state';
import { alertFailure } from './alerts';
import { requestSummary } from './deliver';
import { sealedRows } from './sync-records';

/** How the worker judges an integration's health and paces its breaker's probes (HUB_* settings). */
export function healthThresholds(hub: HubConfig): HealthThresholds {
  return {
    degradedBelow: hub.degradedBelow,
    minAttempts: hub.degradedMinAttempts,
    windowMs: hub.healthWindowMs,
    recoverAfter: hub.recoverAfterSuccesses,
    probeIntervalMs: hub.breakerProbeIntervalMs,
  };
}

export interface ActivityDeps {
  /** The worker's role (tourhub_worker): it writes on behalf of every organisation, after the API checked access. */
  db: Db;
  /** Seals each planned call in its delivery row (it names a person), for a later replay. */
  box: SecretBox;
  hub: HubConfig;
}

export interface LoadTourInput {
  orgId: string;
  userId: string;
  tourId: string;
  /** The run a start asks for (a version and its kept steps); a run still in progress keeps its own. */
  run?: TourRun;
}

export interface LoadTourResult {
  shape: TourShape | null;
  progress: TourState | null;
  hub: HubSettings;
}

export interface PersistTransitionInput {
  workflowId: string;
  state: TourState;
  events: RecordedEvent[];
}

export interface PlanDeliveriesInput {
  workflowId: string;
  orgId: string;
  userId: string;
  tourId: string;
  tourName: string;
  progressId: string;
  events: HubEventDraft[];
}

export interface ReplayPlan {
  delivery: PlannedDelivery;
  retry: DeliveryRetry;
}

/** Why a replay cannot run: non-retryable, so the replay workflow fails at once with this type. */
const refuse = (type: 'delivery_not_found' | 'delivery_not_replayable' | 'integration_gone', message: string) =>
  ApplicationFailure.nonRetryable(message, type);

/** Closures over the worker's dependencies, built once in worker.ts. Workflows see only the type. */
export function createActivities(deps: ActivityDeps) {
  const thresholds = healthThresholds(deps.hub);
  return {
    /**
     * Reads the definition and any stored progress, so a re-created workflow resumes from Postgres. The
     * shape is that of a run: the stored one while it is in progress or abandoned (it keeps its version
     * to its end), else the one asked for, else the stored one's, else the live version's.
     */
    async loadTour(input: LoadTourInput): Promise<LoadTourResult> {
      const row = await findProgressFor(deps.db, input);
      const stored = row ? { version: row.tour_version, stepKeys: row.step_keys } : {};
      const resumable = row !== undefined && (row.status === 'in_progress' || row.status === 'abandoned');
      const tour = await loadRunShape(deps.db, input.orgId, input.tourId, resumable || !input.run ? stored : input.run);
      const minutes = tour?.inactivityTimeoutMinutes ?? null;
      return {
        shape: tour?.shape ?? null,
        progress: tour && row ? rowToState(row) : null,
        hub: {
          retry: deps.hub.retry,
          abandonAfterMs: minutes !== null ? minutes * 60_000 : deps.hub.abandonAfterMs,
          reengageAfterMs: deps.hub.reengageAfterMs,
          checkInAfterMs: deps.hub.checkInAfterMs,
          checkInLeadMs: deps.hub.checkInLeadMs,
        },
      };
    },

    /**
     * Idempotent: the same version twice is a no-op, and analytics events are keyed by version. A tour
     * an admin deleted mid-run has nothing left to write to: the write is dropped, not retried forever.
     */
    async persistTransition(input: PersistTransitionInput): Promise<{ written: boolean }> {
      try {
        return await saveTransition(deps.db, input);
      } catch (err) {
        const e = err as { code?: string; constraint?: string };
        if (e.code === '23503' && /tour_id_foreign|tour_id_fkey/.test(e.constraint ?? '')) return { written: false };
        throw err;
      }
    },

    /**
     * Turns tour events into provider calls: one per route of each active integration, in event order,
     * each with its idempotency key. Writes every one as a pending delivery (its call sealed), so health
     * sees a backlog and an operator can replay any of them; a route the member lacks an email or phone
     * for is written as skipped, with the reason, and not returned. Idempotent: keys derive from the events.
     * A repeated tour_started or tour_completed of the same couple and tour within
     * HUB_SUPPRESS_REPEATS_WITHIN is written as suppressed and not returned, so the workflow never sends
     * it: a restart loop costs the planner one round of effects, and the workflow's logic is unchanged.
     */
    async planDeliveries(input: PlanDeliveriesInput): Promise<PlannedDelivery[]> {
      await insertOutboundEvents(deps.db, tourOutboundEvents(input));
      const [context, integrations, facts] = await Promise.all([
        loadHubContext(deps.db, input.orgId, input.userId),
        listActiveIntegrations(deps.db, input.orgId),
        loadProgressFacts(deps.db, input.progressId),
      ]);
      if (integrations.length === 0) return [];
      const resumeUrl = deps.hub.resumeUrl.replace('{tourId}', encodeURIComponent(input.tourId));
      const planned: PlannedDelivery[] = [];
      const skipped: (Parameters<typeof insertSkipped>[1][number])[] = [];
      const checkInOf = new Map<string, number>();
      for (const draft of input.events) {
        if (draft.checkIn) checkInOf.set(draft.eventId, draft.checkIn.number);
        const event: HubEvent = {
          ...draft,
          orgId: input.orgId,
          userId: input.userId,
          tourId: input.tourId,
          tourName: input.tourName,
          progressId: input.progressId,
          person: context.person,
          ...(draft.type === 'tour_abandoned' || draft.type === 're_engagement_due' ? { resumeUrl } : {}),
          // The stored progress, for merge fields: the API wrote this move before answering, so at
          // worst it is one move behind the event (seconds of tour time, never another tour).
          ...(facts?.progress ? { progress: facts.progress } : {}),
          ...(facts?.subscriptionTier ? { subscriptionTier: facts.subscriptionTier } : {}),
        };
        for (const integration of integrations) {
          const category = integration.type as Category;
          const route = planRoute(category, event, routeOptions(integration.settings, context.timeZone));
          for (const s of route.skipped) {
            skipped.push({
              organizationId: integration.organization_id,
              integrationId: integration.id,
              eventId: event.eventId,
              eventType: event.type,
              action: `${s.action.category}.${s.action.method}`,
              idempotencyKey: idempotencyKey(event.eventId, integration.id, s.action.method, s.index),
              workflowId: input.workflowId,
              payload: requestSummary(s.action),
              reason: SKIP_REASONS[s.reason],
            });
          }
          const actions: PlannedAction[] = route.actions;
          actions.forEach((action, index) => {
            planned.push({
              workflowId: input.workflowId,
              eventId: event.eventId,
              eventType: event.type,
              integrationId: integration.id,
              idempotencyKey: idempotencyKey(event.eventId, integration.id, action.method, index),
              action,
              provider: integration.provider,
              category,
            });
          });
        }
      }
      const orgOf = new Map(integrations.map((i) => [i.id, i.organization_id]));
      // A check-in's number is what makes it a repeat or the next of its series (ONCE_PER_WINDOW_EVENTS).
      const rows = sealedRows(deps.box, planned, (id) => orgOf.get(id)!).map((r) =>
        checkInOf.has(r.eventId) ? { ...r, payload: { ...r.payload, check_in: checkInOf.get(r.eventId) } } : r,
      );
      const send = await planWithRepeatRule(deps.db, input.workflowId, rows, {
        eventTypes: ONCE_PER_WINDOW_EVENTS,
        windowMs: deps.hub.suppressRepeatsWithinMs,
      });
      await insertSkipped(deps.db, skipped);
      return planned.filter((p) => send.has(p.idempotencyKey));
    },

    /**
     * After the workflow's retries ran out (or a non-retryable error): the delivery waits in the dead
     * letter for a replay, and the integration's health is judged again.
     */
    async markDeliveryDead(input: { idempotencyKey: string; integrationId: string; error: string }): Promise<void> {
      await markDead(deps.db, input.idempotencyKey, input.error);
      const integration = await findIntegration(deps.db, input.integrationId);
      if (!integration) return;
      await assessHealth(deps.db, integration, thresholds);
      const delivery = await deps.db('integration_deliveries').where({ idempotency_key: input.idempotencyKey }).first();
      if (delivery) await alertFailure(deps.db, integration, delivery, input.error.split(':')[0]!.slice(0, 100));
    },

    /** A dead (or stuck) delivery's planned call, opened from its row, to send again under the same key. */
    async loadReplay(input: { deliveryId: string }): Promise<ReplayPlan> {
      const row = await findDelivery(deps.db, input.deliveryId);
      if (!row) throw refuse('delivery_not_found', `No delivery ${input.deliveryId}`);
      if (row.status === 'succeeded' || !row.sealed_action) {
        throw refuse('delivery_not_replayable', row.status === 'succeeded' ? 'Already delivered' : 'This delivery predates sealed actions');
      }
      const integration = await findIntegration(deps.db, row.integration_id);
      if (!integration) throw refuse('integration_gone', 'The integration was deleted');
      const action = deps.box.open<PlannedAction>(row.sealed_action as never, actionAad(row.idempotency_key));
      return {
        delivery: {
          workflowId: row.workflow_id,
          eventId: row.event_id,
          eventType: row.event_type,
          integrationId: row.integration_id,
          idempotencyKey: row.idempotency_key,
          action,
          provider: integration.provider,
          category: integration.type as Category,
        },
        retry: deps.hub.retry,
      };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

/**
 * The tour events organisations' webhook subscriptions hear about, written to the outbox as the
 * workflow plans them: in the run's order (the lane keeps it per tour run), once per event id however
 * often planning is retried. No name or email: ids, the tour's name, the time and any feedback.
 */
export function tourOutboundEvents(input: PlanDeliveriesInput): NewOutboundEvent[] {
  return input.events.flatMap((e) => {
    const type = OUTBOUND_TYPE_OF_HUB_EVENT[e.type];
    if (!type) return [];
    return [
      {
        organizationId: input.orgId,
        eventType: type,
        subjectId: input.progressId,
        orderingKey: input.workflowId,
        dedupeKey: `${TOUR_EVENT_DEDUPE_PREFIX}${e.eventId}`,
        payload: {
          event_id: e.eventId,
          tour_id: input.tourId,
          tour_name: input.tourName,
          user_id: input.userId,
          progress_id: input.progressId,
          occurred_at: e.occurredAt,
          ...(e.feedback && (type === 'feedback.submitted' || type === 'tour.completed')
            ? { feedback: { rating: e.feedback.rating ?? null, feedback: e.feedback.feedback ?? null, was_helpful: e.feedback.wasHelpful ?? null } }
            : {}),
        },
      },
    ];
  });
}
