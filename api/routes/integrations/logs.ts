import { z } from 'zod';
import { endpoint, refused } from '../../endpoint';
import { encodeKeyset, iso, jsonObject, keysetCursor, limitQuery, timestamp, canonicalUuid } from '../shared';

const LogView = z.strictObject({
  id: canonicalUuid(),
  delivery_id: canonicalUuid().nullable(),
  event_id: z.string().nullable(),
  action: z.string().nullable(),
  attempt: z.number().int().min(1),
  success: z.boolean(),
  http_status: z.number().int().nullable(),
  error_class: z.string().nullable().describe('The classified failure: timeout, rate_limited, bad_request, ...'),
  error_message: z.string().nullable().describe("A short message, the provider's where it gave one; never a body"),
  request_summary: jsonObject.nullable().describe('What was asked: the call and its field names, never their values'),
  duration_ms: z.number().int().min(0).nullable(),
  processed_at: timestamp,
});

export const listIntegrationLogs = endpoint({
  operationId: 'listIntegrationLogs',
  method: 'get',
  path: '/api/integrations/{id}/logs',
  tag: 'Deliveries',
  summary: "One integration's delivery attempts, newest first",
  description: 'Every attempt of every call (retries included), from integration_logs. Keyset-paginated: pass next_cursor back as cursor.',
  access: 'admin',
  params: z.strictObject({ id: canonicalUuid() }),
  query: z.strictObject({
    success: z.enum(['true', 'false']).optional().describe('Only the attempts that succeeded, or failed'),
    limit: limitQuery(200, 50).describe('1 to 200, default 50'),
    cursor: keysetCursor.optional().describe("The previous page's next_cursor, as given"),
  }),
  responses: {
    200: { description: 'One page', json: z.strictObject({ logs: z.array(LogView), next_cursor: z.string().nullable().describe('Null on the last page') }) },
  },
  errors: ['not_found'],
}).handle(async ({ params, query, auth }, { sync }) => {
  const found = await sync.logs(auth, {
    integrationId: params.id,
    limit: query.limit + 1,
    ...(query.success ? { success: query.success === 'true' } : {}),
    ...(query.cursor ? { after: query.cursor } : {}),
  });
  if (!found.ok) return refused(found.refusal);
  const page = found.value.slice(0, query.limit);
  const last = page.at(-1);
  return {
    status: 200,
    body: {
      logs: page.map((l) => ({
        id: l.id,
        delivery_id: l.delivery_id,
        event_id: l.event_id,
        action: l.action,
        attempt: l.attempt,
        success: l.success,
        http_status: l.http_status,
        error_class: l.error_class,
        error_message: l.error_message,
        request_summary: l.request_summary,
        duration_ms: l.processing_duration_ms,
        processed_at: iso(l.processed_at),
      })),
      next_cursor: found.value.length > query.limit && last ? encodeKeyset(last.position, last.id) : null,
    },
  };
});
