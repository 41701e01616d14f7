import type { Knex } from 'knex';
import type { SealedSecret, SecretBox } from '../secrets';

export interface SubscriptionRow {
  id: string;
  organization_id: string;
  url: string;
  description: string | null;
  event_types: string[];
  sealed_secret: SealedSecret;
  previous_sealed_secret: SealedSecret | null;
  previous_secret_expires_at: Date | null;
  status: 'active' | 'paused';
  paused_at: Date | null;
  paused_reason: string | null;
  failing_since: Date | null;
  consecutive_failures: number;
  created_at: Date;
  updated_at: Date;
}

export interface WebhookDeliveryRow {
  id: string;
  organization_id: string;
  subscription_id: string;
  event_id: string;
  event_seq: number;
  ordering_key: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  signalled_at: Date | null;
  created_at: Date;
  updated_at: Date;
  delivered_at: Date | null;
}

export interface AttemptRow {
  id: string;
  delivery_id: string;
  attempt: number;
  success: boolean;
  status_code: number | null;
  error: string | null;
  response_excerpt: string | null;
  duration_ms: number;
  attempted_at: Date;
}

/** Binds a sealed webhook secret to its subscription: copied elsewhere, it does not open. */
export function subscriptionSecretAad(row: { id: string; organization_id: string }): string {
  return `webhook_subscriptions:${row.organization_id}:${row.id}`;
}

/** The secrets deliveries are signed with now: the current one, and the previous one within its grace. */
export function openSubscriptionSecrets(box: SecretBox, row: SubscriptionRow, now: number): string[] {
  const aad = subscriptionSecretAad(row);
  const secrets = [box.open<string>(row.sealed_secret, aad)];
  if (row.previous_sealed_secret && row.previous_secret_expires_at && row.previous_secret_expires_at.getTime() > now) {
    secrets.push(box.open<string>(row.previous_sealed_secret, aad));
  }
  return secrets;
}

// --- Admin side (tenant transactions: RLS keeps them to the organisation's admins) -----------------

export async function listSubscriptions(db: Knex): Promise<SubscriptionRow[]> {
  return db('webhook_subscriptions').select('*').orderBy([{ column: 'created_at' }, { column: 'id' }]);
}

export async function findSubscription(db: Knex, id: string): Promise<SubscriptionRow | undefined> {
  return db('webhook_subscriptions').where({ id }).first();
}

export async function insertSubscription(
  db: Knex,
  box: SecretBox,
  s: { id: string; orgId: string; url: string; description: string | null; eventTypes: string[]; secret: string },
): Promise<SubscriptionRow> {
  const sealed = box.seal(s.secret, subscriptionSecretAad({ id: s.id, organization_id: s.orgId }));
  const [row] = await db('webhook_subscriptions')
    .insert({ id: s.id, organization_id: s.orgId, url: s.url, description: s.description, event_types: s.eventTypes, sealed_secret: JSON.stringify(sealed) })
    .returning('*');
  return row as SubscriptionRow;
}

export async function updateSubscription(
  db: Knex,
  id: string,
  patch: { url?: string; description?: string | null; eventTypes?: string[]; status?: 'active' | 'paused' },
): Promise<SubscriptionRow | undefined> {
  const changes: Record<string, unknown> = { updated_at: db.fn.now() };
  if (patch.url !== undefined) changes.url = patch.url;
  if (patch.description !== undefined) changes.description = patch.description;
  if (patch.eventTypes !== undefined) changes.event_types = patch.eventTypes;
  if (patch.status === 'active') Object.assign(changes, { status: 'active', paused_at: null, paused_reason: null, failing_since: null, consecutive_failures: 0 });
  if (patch.status === 'paused') Object.assign(changes, { status: 'paused', paused_at: db.fn.now(), paused_reason: 'paused by an admin' });
  const [row] = await db('webhook_subscriptions').where({ id }).update(changes).returning('*');
  return row as SubscriptionRow | undefined;
}

export async function rotateSubscriptionSecret(db: Knex, box: SecretBox, row: SubscriptionRow, secret: string, graceMs: number): Promise<SubscriptionRow> {
  const [updated] = await db('webhook_subscriptions')
    .where({ id: row.id })
    .update({
      sealed_secret: JSON.stringify(box.seal(secret, subscriptionSecretAad(row))),
      previous_sealed_secret: graceMs > 0 ? JSON.stringify(row.sealed_secret) : null,
      previous_secret_expires_at: graceMs > 0 ? db.raw(`now() + (? * interval '1 millisecond')`, [graceMs]) : null,
      updated_at: db.fn.now(),
    })
    .returning('*');
  return updated as SubscriptionRow;
}

export async function deleteSubscription(db: Knex, id: string): Promise<boolean> {
  return (await db('webhook_subscriptions').where({ id }).delete()) > 0;
}

/** Puts the subscription's pending deliveries in front of the relay again (a resume). */
export async function rewakePending(db: Knex, subscriptionId: string): Promise<void> {
  await db('webhook_deliveries').where({ subscription_id: subscriptionId, status: 'pending' }).update({ signalled_at: null, updated_at: db.fn.now() });
}

export interface DeliveryListItem extends WebhookDeliveryRow {
  event_type: string;
}

/** Newest first, keyset-paginated on (created_at, id): `beforeId` is the last delivery of the previous page. */
export async function listWebhookDeliveries(db: Knex, subscriptionId: string, opts: { limit: number; beforeId?: string }): Promise<DeliveryListItem[]> {
  const q = db('webhook_deliveries as d')
    .join('outbound_events as e', 'e.id', 'd.event_id')
    .select('d.*', 'e.event_type')
    .where('d.subscription_id', subscriptionId)
    .orderBy([{ column: 'd.created_at', order: 'desc' }, { column: 'd.id', order: 'desc' }])
    .limit(opts.limit);
  if (opts.beforeId) q.andWhereRaw('(d.created_at, d.id) < (select created_at, id from webhook_deliveries where id = ?)', [opts.beforeId]);
  return q;
}

export async function findWebhookDelivery(db: Knex, subscriptionId: string, id: string): Promise<DeliveryListItem | undefined> {
  return db('webhook_deliveries as d')
    .join('outbound_events as e', 'e.id', 'd.event_id')
    .select('d.*', 'e.event_type')
    .where({ 'd.subscription_id': subscriptionId, 'd.id': id })
    .first();
}

export async function listAttempts(db: Knex, deliveryId: string): Promise<AttemptRow[]> {
  return db('webhook_delivery_attempts').select('*').where({ delivery_id: deliveryId }).orderBy('attempt');
}

/** An admin's resend: back to pending in its lane; the relay wakes the lane. */
export async function requeueDelivery(db: Knex, id: string): Promise<void> {
  await db('webhook_deliveries').where({ id }).update({ status: 'pending', signalled_at: null, updated_at: db.fn.now() });
}
