import { z } from 'zod';
import { endpoint } from '../../../endpoint';
import { encodeKeyset, keysetCursor, limitQuery, canonicalUuid } from '../../shared';
import { ConflictView, presentConflict } from './views';

export const listConflicts = endpoint({
  operationId: 'listSyncConflicts',
  method: 'get',
  path: '/api/integrations/conflicts',
  tag: 'Sync',
  summary: "Two-way sync's manual conflicts, newest first, with both values",
  description:
    'A field both sides changed since they last agreed, under a `manual` policy (docs/architecture.md, conflicts). Keyset-paginated: pass next_cursor back as cursor.',
  access: 'admin',
  query: z.strictObject({
    status: z.enum(['open', 'resolved']).optional().describe('Default: both'),
    integration_id: canonicalUuid().optional(),
    limit: limitQuery(200, 50).describe('1 to 200, default 50'),
    cursor: keysetCursor.optional().describe("The previous page's next_cursor, as given"),
  }),
  responses: {
    200: { description: 'One page', json: z.strictObject({ conflicts: z.array(ConflictView), next_cursor: z.string().nullable().describe('Null on the last page') }) },
  },
  errors: [],
}).handle(async ({ query, auth }, { sync }) => {
  const rows = await sync.conflicts(auth, {
    limit: query.limit + 1,
    ...(query.status ? { status: query.status } : {}),
    ...(query.integration_id ? { integrationId: query.integration_id } : {}),
    ...(query.cursor ? { after: { detectedAt: query.cursor.at, id: query.cursor.id } } : {}),
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { status: 200, body: { conflicts: page.map(presentConflict), next_cursor: rows.length > query.limit && last ? encodeKeyset(last.position, last.id) : null } };
});
