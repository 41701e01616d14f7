import { endpoint, refused } from '../../endpoint';
import { changeOf, CHANGE_ERRORS, presentConfig, TourConfigEnvelope, TourConfigParams, UpdateTourConfigBody } from './views';

export const updateTourConfig = endpoint({
  operationId: 'updateTourConfig',
  method: 'put',
  path: '/api/tours/config/{tourId}',
  tag: 'Authoring',
  summary: "Change a tour's configuration: its fields, steps, targeting, an A/B test",
  description:
    "Seed 000's PUT /api/tours/config/:tour_id. Changes the working copy; `publish: true` publishes it as the next version in the same transaction. `steps` replaces the whole list. Anything refused (a duplicate step key, an unknown rule operator, an unknown prerequisite, a second running test) changes nothing. Runs under way keep the version they started on.",
  access: 'admin',
  params: TourConfigParams,
  body: UpdateTourConfigBody,
  responses: { 200: { description: 'The configuration as changed', json: TourConfigEnvelope } },
  errors: ['not_found', ...CHANGE_ERRORS],
}).handle(async ({ params, body, auth }, { tourConfig }) => {
  const updated = await tourConfig.update(auth, params.tourId, changeOf(body));
  if (!updated.ok) return refused(updated.refusal);
  return { status: 200, body: { config: presentConfig(updated.value) } };
});
