import { z } from 'zod';
import type { DeliveryListItem } from '../../../../db/repositories/deliveries';
import { HUB_EVENT_TYPES } from '../../../../domain/hub';
import { endpoint } from '../../../endpoint';
import { named } from '../../../openapi';
import { canonicalUuid, encodeKeyset, iso, keysetCursor, limitQuery, timestamp } from '../../shared';

const DELIVERY_STATUSES = ['pending', 'failed', 'succeeded', 'dead', 'skipped', 'suppressed', 'cancelled'] as const;

export const ListDeliveriesQuery = z.strictObject({
  status: z.enum(DELIVERY_STATUSES).optional(),
  integration_id: canonicalUuid().optional(),
  event_type: z.enum(HUB_EVENT_TYPES).optional(),
  limit: limitQuery(200, 50).describe('1 to 200, default 50'),
  cursor: keysetCursor.optional().describe("The previous page's next_cursor, as given"),
});

const DeliveryView = named(
  'Delivery',
  z.strictObject({
    id: canonicalUuid(),
    integration_id: canonicalUuid(),
    provider: z.string(),
    event_id: z.string().describe('{workflowId}:{sequence}: the same across retries and replays'),
    event_type: z.string(),
    action: z.string(),
    idempotency_key: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int().min(0),
    last_error: z.string().nullable(),
    skip_reason: z.string().nullable().describe('Why a `skipped` route was not taken: the member lacks the email or phone its provider needs (nothing was planned)'),
    suppressed_reason: z.string().nullable().describe('Why a repeated effect was not sent (status `suppressed`, HUB_SUPPRESS_REPEATS_WITHIN): planned, then held back'),
    created_at: timestamp,
    updated_at: timestamp,
    delivered_at: timestamp.nullable(),
    workflow_id: z.string(),
  }),
);

/** The listing's shape: what and where, never the payload or the sealed call (they name a person). */
function presentDelivery(d: DeliveryListItem): z.input<typeof DeliveryView> {
  return {
    id: d.id,
    integration_id: d.integration_id,
    provider: d.provider,
    event_id: d.event_id,
    event_type: d.event_type,
    action: d.action,
    idempotency_key: d.idempotency_key,
    status: d.status,
    attempts: d.attempts,
    last_error: d.last_error,
    skip_reason: d.skip_reason,
    suppressed_reason: d.suppressed_reason,
    created_at: iso(d.created_at),
    updated_at: iso(d.updated_at),
    delivered_at: iso(d.delivered_at),
    workflow_id: d.workflow_id,
  };
}

export const listDeliveries = endpoint({
  operationId: 'listDeliveries',
  method: 'get',
  path: '/api/integrations/deliveries',
  tag: 'Deliveries',
  summary: 'Deliveries, newest first: what was sent where, and how it went',
  description: 'Never the payload or the sealed call. Keyset-paginated: pass next_cursor back as cursor.',
  access: 'admin',
  query: ListDeliveriesQuery,
  responses: {
    200: {
      description: 'One page',
      json: z.strictObject({ deliveries: z.array(DeliveryView), next_cursor: z.string().nullable().describe('Null on the last page') }),
    },
  },
  errors: [],
}).handle(async ({ query, auth }, { deliveries }) => {
  const rows = await deliveries(auth, {
    limit: query.limit + 1,
    ...(query.status ? { status: query.status } : {}),
    ...(query.integration_id ? { integrationId: query.integration_id } : {}),
    ...(query.event_type ? { eventType: query.event_type } : {}),
    ...(query.cursor ? { after: { createdAt: query.cursor.at, id: query.cursor.id } } : {}),
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    status: 200,
    body: { deliveries: page.map(presentDelivery), next_cursor: rows.length > query.limit && last ? encodeKeyset(last.position, last.id) : null },
  };
});
