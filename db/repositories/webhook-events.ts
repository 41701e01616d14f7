import type { Knex } from 'knex';

/** Where an inbound event came from: the seed's `tour_system` and one source per provider route. */
export type WebhookSource = 'tour_system' | 'stripe' | 'twilio' | 'google_calendar' | 'microsoft_graph';

export interface WebhookEventRow {
  id: string;
  organization_id: string;
  webhook_id: string;
  event_type: string;
  source: WebhookSource;
  payload: Record<string, unknown>;
  status: 'pending' | 'processed' | 'failed' | 'retrying';
  integration_id: string | null;
  resource: string | null;
  processed_at: Date | null;
  created_at: Date;
}

export interface NewWebhookEvent {
  organizationId: string;
  /** The sender's id for the event; with the organisation and source, its dedupe key. */
  webhookId: string;
  eventType: string;
  source: WebhookSource;
  payload: Record<string, unknown>;
  integrationId?: string;
  resource?: string;
}

/**
 * Records an inbound event, or finds it: `created` is false when an earlier copy (same organisation,
 * source and id) is already stored, and `row` is that copy. A concurrent copy's insert waits on the
 * unique index until the first commits, so exactly one caller ever sees created: true.
 */
export async function recordWebhookEvent(db: Knex, e: NewWebhookEvent): Promise<{ created: boolean; row: WebhookEventRow }> {
  const inserted = await db('webhook_events')
    .insert({
      organization_id: e.organizationId,
      webhook_id: e.webhookId,
      event_type: e.eventType.slice(0, 50),
      source: e.source,
      payload: JSON.stringify(e.payload),
      integration_id: e.integrationId ?? null,
      resource: e.resource ?? null,
    })
    .onConflict(['organization_id', 'source', 'webhook_id'])
    .ignore()
    .returning('*');
  if (inserted.length > 0) return { created: true, row: inserted[0] as WebhookEventRow };
  const row = (await db('webhook_events')
    .where({ organization_id: e.organizationId, source: e.source, webhook_id: e.webhookId })
    .first()) as WebhookEventRow | undefined;
  // Deleted between the two statements (its first copy was refused): the caller tries again.
  if (!row) return recordWebhookEvent(db, e);
  return { created: false, row };
}

export async function markWebhookEvent(db: Knex, id: string, status: 'processed' | 'failed', error?: string): Promise<void> {
  await db('webhook_events')
    .where({ id })
    .update({ status, processed_at: db.fn.now(), error_message: error ?? null });
}

/** Forgets an event whose effect was refused, so a corrected copy with the same id can be sent again. */
export async function forgetWebhookEvent(db: Knex, id: string): Promise<void> {
  await db('webhook_events').where({ id, status: 'pending' }).delete();
}
