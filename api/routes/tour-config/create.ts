import { endpoint, refused } from '../../endpoint';
import { changeOf, CHANGE_ERRORS, CreateTourConfigBody, presentConfig, TourConfigEnvelope } from './views';

export const createTourConfig = endpoint({
  operationId: 'createTourConfig',
  method: 'post',
  path: '/api/tours/config',
  tag: 'Authoring',
  summary: 'Create a tour (a draft until published)',
  description: 'With its steps, targeting and an A/B test if given; `publish: true` publishes it as version 1 at once. Refused whole on any bad part.',
  access: 'admin',
  body: CreateTourConfigBody,
  responses: { 201: { description: 'Created', json: TourConfigEnvelope } },
  errors: [...CHANGE_ERRORS],
}).handle(async ({ body, auth }, { tourConfig }) => {
  const change = changeOf(body);
  const created = await tourConfig.create(auth, { ...change, tour: { ...change.tour, tour_key: body.tour.tour_key, name: body.tour.name } });
  if (!created.ok) return refused(created.refusal);
  return { status: 201, body: { config: presentConfig(created.value) } };
});
