import crypto from 'node:crypto';
import type { Db } from '../../db/knex';
import { actionAad, type DeliveryStatus } from '../../db/repositories/deliveries';
import { insertIntegration } from '../../db/repositories/integrations';
import type { SecretBox } from '../../db/secrets';
import type { PlannedAction } from '../../domain/hub';

/** Rows the hub writes (integrations, deliveries, attempt logs), inserted directly with the owner connection. */

export async function insertTestIntegration(
  db: Db,
  box: SecretBox,
  opts: { orgId: string; provider: string; category?: string; isActive?: boolean },
): Promise<string> {
  const id = crypto.randomUUID();
  await insertIntegration(db, box, {
    id,
    organizationId: opts.orgId,
    type: opts.category ?? 'crm',
    provider: opts.provider,
    settings: { provider: {}, field_mapping: {}, enabled_events: [] },
    credentials: { apiKey: 'test-key' },
    isActive: opts.isActive ?? true,
  });
  return id;
}

export const TEST_ACTION: PlannedAction = {
  category: 'crm',
  method: 'logActivity',
  input: {
    person: { email: 'ava@example.com', firstName: 'Ava' },
    type: 'tour_completed',
    title: 'Completed "Welcome"',
    description: 'Ava completed the onboarding tour "Welcome".',
    occurredAt: '2026-11-23T12:00:00Z',
    metadata: {},
  },
};

export interface TestDelivery {
  id: string;
  idempotencyKey: string;
  eventId: string;
}

/**
 * One delivery row as the hub would leave it. `sealed` (the default) stores the planned call sealed
 * with `box` under the row's key, as planning does, so a replay can open it.
 */
export async function insertTestDelivery(
  db: Db,
  box: SecretBox,
  opts: {
    orgId: string;
    integrationId: string;
    status?: DeliveryStatus;
    eventType?: string;
    createdAt?: Date;
    action?: PlannedAction;
    sealed?: boolean;
    lastError?: string;
  },
): Promise<TestDelivery> {
  const eventId = `tour:${opts.orgId}:u:t:${crypto.randomUUID().slice(0, 8)}`;
  const action = opts.action ?? TEST_ACTION;
  const idempotencyKey = `${eventId}:${opts.integrationId}:0:${action.method}`;
  const [row] = await db('integration_deliveries')
    .insert({
      organization_id: opts.orgId,
      integration_id: opts.integrationId,
      event_id: eventId,
      event_type: opts.eventType ?? 'tour_completed',
      action: `${action.category}.${action.method}`,
      idempotency_key: idempotencyKey,
      workflow_id: `tour:${opts.orgId}:u:t`,
      status: opts.status ?? 'dead',
      attempts: opts.status === 'pending' ? 0 : 1,
      last_error: opts.lastError ?? (opts.status === 'dead' || opts.status === undefined ? 'bad_request: fake answered 400' : null),
      payload: JSON.stringify({ method: `${action.category}.${action.method}`, fields: Object.keys(action.input).sort() }),
      sealed_action: opts.sealed === false ? null : JSON.stringify(box.seal(action, actionAad(idempotencyKey))),
      ...(opts.createdAt ? { created_at: opts.createdAt, updated_at: opts.createdAt } : {}),
      ...(opts.status === 'succeeded' ? { delivered_at: opts.createdAt ?? new Date() } : {}),
    })
    .returning('id');
  return { id: row.id, idempotencyKey, eventId };
}

/** integration_logs rows: one per attempt, `agoMs` before now, with the given success and duration. */
export async function insertAttempts(
  db: Db,
  opts: { orgId: string; integrationId: string; provider: string; category?: string },
  attempts: { success: boolean; durationMs: number; agoMs: number }[],
): Promise<void> {
  if (attempts.length === 0) return;
  await db('integration_logs').insert(
    attempts.map((a, i) => ({
      organization_id: opts.orgId,
      integration_id: opts.integrationId,
      integration_type: opts.category ?? 'crm',
      integration_provider: opts.provider,
      action: 'crm.logActivity',
      attempt: 1,
      success: a.success,
      event_id: `evt-${i}`,
      processing_duration_ms: a.durationMs,
      processed_at: new Date(Date.now() - a.agoMs),
    })),
  );
}
