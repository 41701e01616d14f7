import { z } from 'zod';
import type { AdminTourRow } from '../../../db/repositories/tour-config';
import { endpoint } from '../../endpoint';
import { named } from '../../openapi';
import { canonicalUuid, limitQuery } from '../shared';
import { TOUR_TYPES } from '../tours/views';

const TourSummary = named(
  'TourSummary',
  z.strictObject({
    tour_id: canonicalUuid(),
    tour_key: z.string(),
    name: z.string(),
    tour_type: z.enum(TOUR_TYPES),
    status: z.enum(['draft', 'published', 'unpublished']),
    published_version: z.number().int().positive().nullable(),
    step_count: z.number().int().min(0).describe('Of the working copy'),
    running_ab_test_id: canonicalUuid().nullable(),
    updated_at: z.iso.datetime(),
  }),
);

export const ListTourConfigsQuery = z.strictObject({
  limit: limitQuery(200, 50).describe('1 to 200, default 50'),
  after: canonicalUuid().optional().describe('The last tour_id of the previous page'),
});

function present(t: AdminTourRow): z.input<typeof TourSummary> {
  return {
    tour_id: t.id,
    tour_key: t.tour_key,
    name: t.name,
    tour_type: t.tour_type as (typeof TOUR_TYPES)[number],
    status: t.is_active ? 'published' : t.published_version === null ? 'draft' : 'unpublished',
    published_version: t.published_version,
    step_count: t.step_count,
    running_ab_test_id: t.running_test_id,
    updated_at: t.updated_at.toISOString(),
  };
}

export const listTourConfigs = endpoint({
  operationId: 'listTourConfigs',
  method: 'get',
  path: '/api/tours/config',
  tag: 'Authoring',
  summary: 'Every tour of the organisation: drafts, live and unpublished',
  access: 'admin',
  query: ListTourConfigsQuery,
  responses: {
    200: { description: 'By tour id', json: z.strictObject({ tours: z.array(TourSummary), next_after: canonicalUuid().nullable().describe('Pass as `after` for the next page; null on the last') }) },
  },
  errors: [],
}).handle(async ({ query, auth }, { tourConfig }) => {
  const rows = await tourConfig.list(auth, { limit: query.limit + 1, ...(query.after ? { after: query.after } : {}) });
  const page = rows.slice(0, query.limit);
  return { status: 200, body: { tours: page.map(present), next_after: rows.length > query.limit ? page.at(-1)!.id : null } };
});
