/**
 * What the hub tells an organisation's admins about its deliveries, as outbound events (listed at
 * GET /api/notifications and pushed to the organisation's webhook subscriptions): seed 001's admin alert
 * on any CRM or payment failure, and its onboarding-complete event once every integration took a tour's
 * completion. Payloads carry ids and codes only: subscriptions receive them as they are.
 */
import type { Knex } from 'knex';
import { insertOutboundEvents } from '../db/repositories/outbound-events';

/** Seed 001: "Check if any critical integrations failed": the CRM and payment ones. */
export const ALERTED_CATEGORIES: ReadonlySet<string> = new Set(['crm', 'payment']);

interface DeliveryRef {
  id: string;
  event_id: string;
  event_type: string;
  action: string;
  workflow_id: string;
}

/** A CRM or payment delivery that will not be retried (dead, or refused by the provider): one alert per delivery. */
export async function alertFailure(
  db: Knex,
  integration: { id: string; organization_id: string; provider: string; type: string },
  delivery: DeliveryRef,
  errorCode: string,
): Promise<void> {
  if (!ALERTED_CATEGORIES.has(integration.type)) return;
  await insertOutboundEvents(db, [{
    organizationId: integration.organization_id,
    eventType: 'integration.failure',
    subjectId: integration.id,
    dedupeKey: `integration.failure:${delivery.id}`,
    payload: {
      integration_id: integration.id,
      provider: integration.provider,
      category: integration.type,
      delivery_id: delivery.id,
      event_type: delivery.event_type,
      action: delivery.action,
      error_code: errorCode,
    },
  }]);
}

/** `tour:{orgId}:{userId}:{tourId}` -> its ids. */
function tourIds(workflowId: string): { orgId: string; userId: string; tourId: string } | undefined {
  const m = /^tour:([0-9a-f-]{36}):([0-9a-f-]{36}):([0-9a-f-]{36})$/i.exec(workflowId);
  return m ? { orgId: m[1]!, userId: m[2]!, tourId: m[3]! } : undefined;
}

/**
 * After a delivery of a tour completion succeeded: if every delivery of that completion (one per route of
 * every integration) has now succeeded, the organisation hears `tour.onboarding_completed`, once, however
 * many of the last ones finish together and whether the last one was a replay.
 */
export async function noteCompletionDelivered(db: Knex, delivery: DeliveryRef & { organization_id: string }): Promise<void> {
  if (delivery.event_type !== 'tour_completed') return;
  const [counts] = await db('integration_deliveries')
    .where({ event_id: delivery.event_id })
    .select(
      db.raw('count(*)::int as total'),
      db.raw(`count(*) filter (where status <> 'succeeded')::int as open`),
      db.raw('count(distinct integration_id)::int as integrations'),
    );
  if (!counts || counts.open > 0) return;
  const ids = tourIds(delivery.workflow_id);
  const progress = ids ? await db('user_tour_progress').select('id').where({ organization_id: ids.orgId, user_id: ids.userId, tour_id: ids.tourId }).first() : undefined;
  await insertOutboundEvents(db, [{
    organizationId: delivery.organization_id,
    eventType: 'tour.onboarding_completed',
    subjectId: progress?.id ?? null,
    // The tour run's own order: a subscriber hears it after that run's tour.completed.
    orderingKey: delivery.workflow_id,
    dedupeKey: `tour.onboarding_completed:${delivery.event_id}`,
    payload: {
      event_id: delivery.event_id,
      ...(ids ? { tour_id: ids.tourId, user_id: ids.userId } : {}),
      ...(progress ? { progress_id: progress.id } : {}),
      integrations: counts.integrations,
      deliveries: counts.total,
    },
  }]);
}
