import { z } from 'zod';
import { endpoint, refused } from '../../endpoint';
import { canonicalUuid, iso, timestamp } from '../shared';
import { TourConfigParams } from './views';

export const listTourVersions = endpoint({
  operationId: 'listTourVersions',
  method: 'get',
  path: '/api/tours/config/{tourId}/versions',
  tag: 'Authoring',
  summary: "A tour's published versions, newest first",
  description: 'Read one with `GET /api/tours/config/{tourId}?version=N`.',
  access: 'admin',
  params: TourConfigParams,
  responses: {
    200: {
      description: 'The versions',
      json: z.strictObject({
        versions: z.array(
          z.strictObject({ version: z.number().int().positive(), published_at: timestamp, published_by: canonicalUuid().nullable(), step_count: z.number().int().min(0) }),
        ),
      }),
    },
  },
  errors: ['not_found'],
}).handle(async ({ params, auth }, { tourConfig }) => {
  const found = await tourConfig.versions(auth, params.tourId);
  if (!found.ok) return refused(found.refusal);
  return { status: 200, body: { versions: found.value.map((v) => ({ version: v.version, published_at: iso(v.published_at), published_by: v.published_by, step_count: v.step_count })) } };
});
