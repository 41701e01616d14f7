import { z } from 'zod';
import { endpoint, refused } from '../../endpoint';
import { presentConfig, TourConfigEnvelope, TourConfigParams } from './views';

export const TourConfigQuery = z.strictObject({
  version: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1))
    .optional()
    .describe('A published version, as it was frozen; without it, the working copy'),
});

export const getTourConfig = endpoint({
  operationId: 'getTourConfig',
  method: 'get',
  path: '/api/tours/config/{tourId}',
  tag: 'Authoring',
  summary: "A tour's configuration: its working copy, or a published version",
  description: "Seed 000's GET /api/tours/config/:tour_id: steps, targeting and the running A/B test. Old versions stay readable with `?version=N`.",
  access: 'admin',
  params: TourConfigParams,
  query: TourConfigQuery,
  responses: { 200: { description: 'The configuration', json: TourConfigEnvelope } },
  errors: ['not_found', 'version_not_found'],
}).handle(async ({ params, query, auth }, { tourConfig }) => {
  const found = await tourConfig.get(auth, params.tourId, query.version);
  if (!found.ok) return refused(found.refusal);
  return { status: 200, body: { config: presentConfig(found.value) } };
});
