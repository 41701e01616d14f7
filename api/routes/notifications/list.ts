import { z } from 'zod';
import { endpoint } from '../../endpoint';
import { iso, jsonObject, limitQuery, timestamp, canonicalUuid } from '../shared';

export const listNotifications = endpoint({
  operationId: 'listNotifications',
  method: 'get',
  path: '/api/notifications',
  tag: 'Notifications',
  summary: "What the organisation's admins should hear about, newest first",
  description:
    '`integration.degraded` (with the figures that tipped it), `integration.paused` (its breaker opened) and `integration.recovered`; `integration.failure` (a CRM or payment delivery that will not be retried); `tour.onboarding_completed` (every integration took a tour\'s completion); `sync.conflict` (a manual conflict to resolve); `webhook.subscription_paused`. Payloads carry ids, codes and figures only. Tour events go to webhook subscriptions, not here.',
  access: 'admin',
  query: z.strictObject({ limit: limitQuery(200, 50).describe('1 to 200, default 50') }),
  responses: {
    200: {
      description: 'The newest notifications',
      json: z.strictObject({
        notifications: z.array(
          z.strictObject({ id: canonicalUuid(), type: z.string(), subject_id: canonicalUuid().nullable(), payload: jsonObject, created_at: timestamp }),
        ),
        total: z.number().int().min(0),
      }),
    },
  },
  errors: [],
}).handle(async ({ query, auth }, { notifications }) => {
  const rows = await notifications(auth, query.limit);
  return {
    status: 200,
    body: {
      notifications: rows.map((r) => ({ id: r.id, type: r.event_type, subject_id: r.subject_id, payload: r.payload, created_at: iso(r.created_at) })),
      total: rows.length,
    },
  };
});
