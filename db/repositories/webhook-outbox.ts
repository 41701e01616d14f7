import type { Knex } from 'knex';
import { filterMatches, orderingKeyOf } from '../../domain/webhooks';
import type { SubscriptionRow, WebhookDeliveryRow } from './webhook-subscriptions';

/**
 * The worker's side of outbound webhooks (its role, tourhub_worker): fanning the outbox out into deliveries,
 * what a lane sends next, and the record of every attempt.
 */

/** Any number, the same in every process: relays take it so that one fans out at a time, in seq order. */
const RELAY_LOCK = 0x7e6b_0013;

export interface Lane {
  subscriptionId: string;
  orderingKey: string;
}

/**
 * Fans out up to `limit` unrelayed outbox rows, oldest first, into a delivery per subscription whose
 * filter matches (active or paused: a paused subscription's deliveries wait for its resume). Returns how
 * many rows were relayed, or undefined when another relay holds the lock. One transaction: a crash
 * relays nothing, and a second pass never doubles a delivery (unique per subscription and event).
 */
export async function relayOutbox(db: Knex, limit: number): Promise<number | undefined> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: { locked: boolean }[] }>('select pg_try_advisory_xact_lock(?) as locked', [RELAY_LOCK]);
    if (!rows[0]?.locked) return undefined;
    const events: { id: string; organization_id: string; event_type: string; subject_id: string | null; ordering_key: string | null; seq: number }[] = await trx('outbound_events')
      .select('id', 'organization_id', 'event_type', 'subject_id', 'ordering_key', 'seq')
      .whereNull('relayed_at')
      .orderBy('seq')
      .limit(limit);
    if (events.length === 0) return 0;
    const orgs = [...new Set(events.map((e) => e.organization_id))];
    const subscriptions: Pick<SubscriptionRow, 'id' | 'organization_id' | 'event_types'>[] = await trx('webhook_subscriptions')
      .select('id', 'organization_id', 'event_types')
      .whereIn('organization_id', orgs);
    const deliveries = events.flatMap((e) =>
      subscriptions
        .filter((s) => s.organization_id === e.organization_id && filterMatches(s.event_types, e.event_type))
        .map((s) => ({ organization_id: e.organization_id, subscription_id: s.id, event_id: e.id, event_seq: e.seq, ordering_key: orderingKeyOf(e) })),
    );
    for (let i = 0; i < deliveries.length; i += 500) {
      await trx('webhook_deliveries').insert(deliveries.slice(i, i + 500)).onConflict(['subscription_id', 'event_id']).ignore();
    }
    await trx('outbound_events').whereIn('id', events.map((e) => e.id)).update({ relayed_at: trx.fn.now() });
    return events.length;
  });
}

/**
 * Lanes of active subscriptions with pending deliveries nobody woke yet, or woke longer than
 * `resignalAfterMs` ago (a lane that closed just as its wake-up arrived is woken again). Marks them woken.
 */
export async function lanesToWake(db: Knex, resignalAfterMs: number, limit: number): Promise<Lane[]> {
  const { rows } = await db.raw<{ rows: { subscription_id: string; ordering_key: string }[] }>(
    `UPDATE webhook_deliveries d SET signalled_at = now()
       FROM (
         SELECT DISTINCT d2.subscription_id, d2.ordering_key
           FROM webhook_deliveries d2 JOIN webhook_subscriptions s ON s.id = d2.subscription_id
          WHERE d2.status = 'pending' AND s.status = 'active'
            AND (d2.signalled_at IS NULL OR d2.signalled_at < now() - (? * interval '1 millisecond'))
          LIMIT ?
       ) lane
      WHERE d.subscription_id = lane.subscription_id AND d.ordering_key = lane.ordering_key AND d.status = 'pending'
      RETURNING d.subscription_id, d.ordering_key`,
    [resignalAfterMs, limit],
  );
  const seen = new Map<string, Lane>();
  for (const r of rows) seen.set(`${r.subscription_id}\n${r.ordering_key}`, { subscriptionId: r.subscription_id, orderingKey: r.ordering_key });
  return [...seen.values()];
}

/** Forgets that these lanes were woken (signalling them failed): the next pass tries again. */
export async function unwake(db: Knex, lanes: Lane[]): Promise<void> {
  for (const l of lanes) {
    await db('webhook_deliveries').where({ subscription_id: l.subscriptionId, ordering_key: l.orderingKey, status: 'pending' }).update({ signalled_at: null });
  }
}

export type NextInLane = { kind: 'delivery'; deliveryId: string } | { kind: 'idle' } | { kind: 'paused' } | { kind: 'gone' };

/** The lane's oldest pending delivery, in outbox order. */
export async function nextInLane(db: Knex, lane: Lane): Promise<NextInLane> {
  const subscription = await db('webhook_subscriptions').select('status').where({ id: lane.subscriptionId }).first();
  if (!subscription) return { kind: 'gone' };
  if (subscription.status === 'paused') return { kind: 'paused' };
  const next = await db('webhook_deliveries')
    .select('id')
    .where({ subscription_id: lane.subscriptionId, ordering_key: lane.orderingKey, status: 'pending' })
    .orderBy('event_seq')
    .first();
  return next ? { kind: 'delivery', deliveryId: next.id } : { kind: 'idle' };
}

export interface DeliveryToSend {
  delivery: WebhookDeliveryRow;
  subscription: SubscriptionRow;
  event: { id: string; event_type: string; payload: Record<string, unknown>; created_at: Date };
}

export async function loadDeliveryToSend(db: Knex, deliveryId: string): Promise<DeliveryToSend | undefined> {
  const delivery: WebhookDeliveryRow | undefined = await db('webhook_deliveries').where({ id: deliveryId }).first();
  if (!delivery) return undefined;
  const subscription: SubscriptionRow | undefined = await db('webhook_subscriptions').where({ id: delivery.subscription_id }).first();
  const event = await db('outbound_events').select('id', 'event_type', 'payload', 'created_at').where({ id: delivery.event_id }).first();
  return subscription && event ? { delivery, subscription, event } : undefined;
}

/** The attempt's number, taken before the call so a crash mid-call still counts it. */
export async function beginAttempt(db: Knex, deliveryId: string): Promise<number> {
  const [row] = await db('webhook_deliveries')
    .where({ id: deliveryId })
    .update({ attempts: db.raw('attempts + 1'), updated_at: db.fn.now() })
    .returning('attempts');
  return (row as { attempts: number }).attempts;
}

export interface AttemptOutcome {
  deliveryId: string;
  organizationId: string;
  subscriptionId: string;
  attempt: number;
  success: boolean;
  statusCode: number | null;
  error: string | null;
  excerpt: string | null;
  durationMs: number;
}

export interface PausePolicy {
  /** All attempts failing for at least this long... */
  afterMs: number;
  /** ...and at least this many in a row. */
  minFailures: number;
}

/**
 * Records one attempt and its consequence for the delivery and the subscription's failure streak. When
 * the streak passes the policy, the subscription is paused and the organisation told (an outbox event:
 * listed in notifications, and sent to its other subscriptions). Returns whether it paused now.
 */
export async function recordWebhookAttempt(db: Knex, o: AttemptOutcome, pause: PausePolicy): Promise<{ paused: boolean }> {
  return db.transaction(async (trx) => {
    await trx('webhook_delivery_attempts')
      .insert({
        organization_id: o.organizationId,
        delivery_id: o.deliveryId,
        attempt: o.attempt,
        success: o.success,
        status_code: o.statusCode,
        error: o.error,
        response_excerpt: o.excerpt,
        duration_ms: Math.max(0, Math.round(o.durationMs)),
      })
      .onConflict(['delivery_id', 'attempt'])
      .ignore();
    await trx('webhook_deliveries')
      .where({ id: o.deliveryId })
      .update({
        last_status_code: o.statusCode,
        last_error: o.error,
        updated_at: trx.fn.now(),
        ...(o.success ? { status: 'succeeded', delivered_at: trx.fn.now() } : {}),
      });
    if (o.success) {
      await trx('webhook_subscriptions').where({ id: o.subscriptionId }).update({ failing_since: null, consecutive_failures: 0 });
      return { paused: false };
    }
    const [s] = await trx('webhook_subscriptions')
      .where({ id: o.subscriptionId })
      .update({ failing_since: trx.raw('coalesce(failing_since, now())'), consecutive_failures: trx.raw('consecutive_failures + 1') })
      .returning(['id', 'status', 'url', 'failing_since', 'consecutive_failures']);
    if (!s || s.status !== 'active') return { paused: false };
    const failingMs = Date.now() - new Date(s.failing_since).getTime();
    if (failingMs < pause.afterMs || s.consecutive_failures < pause.minFailures) return { paused: false };
    const reason = `every attempt failed for ${Math.round(failingMs / 60_000)} minutes (${s.consecutive_failures} in a row); last: ${o.error ?? `HTTP ${o.statusCode}`}`.slice(0, 500);
    const paused = await trx('webhook_subscriptions')
      .where({ id: o.subscriptionId, status: 'active' })
      .update({ status: 'paused', paused_at: trx.fn.now(), paused_reason: reason, updated_at: trx.fn.now() })
      .returning('id');
    if (paused.length === 0) return { paused: false };
    await trx('outbound_events').insert({
      organization_id: o.organizationId,
      event_type: 'webhook.subscription_paused',
      subject_id: o.subscriptionId,
      payload: JSON.stringify({ subscription_id: o.subscriptionId, url: s.url, reason, failing_since: new Date(s.failing_since).toISOString(), consecutive_failures: s.consecutive_failures }),
    });
    return { paused: true };
  });
}

/** A delivery whose retries ran out: failed, listed, resendable. */
export async function markWebhookDeliveryFailed(db: Knex, deliveryId: string, reason: string): Promise<void> {
  await db('webhook_deliveries').where({ id: deliveryId, status: 'pending' }).update({ status: 'failed', last_error: reason.slice(0, 1000), updated_at: db.fn.now() });
}
