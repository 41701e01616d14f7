import { endpoint, refused } from '../../endpoint';
import { presentConfig, TourConfigEnvelope, TourConfigParams } from './views';

export const publishTour = endpoint({
  operationId: 'publishTour',
  method: 'post',
  path: '/api/tours/config/{tourId}/publish',
  tag: 'Authoring',
  summary: 'Publish the working copy as the next version',
  description: 'The version is frozen (immutable) and goes live: new starts take it; runs under way keep theirs to their end.',
  access: 'admin',
  params: TourConfigParams,
  responses: { 200: { description: 'Published', json: TourConfigEnvelope } },
  errors: ['not_found', 'tour_has_no_steps'],
}).handle(async ({ params, auth }, { tourConfig }) => {
  const published = await tourConfig.publish(auth, params.tourId);
  if (!published.ok) return refused(published.refusal);
  return { status: 200, body: { config: presentConfig(published.value) } };
});

export const unpublishTour = endpoint({
  operationId: 'unpublishTour',
  method: 'post',
  path: '/api/tours/config/{tourId}/unpublish',
  tag: 'Authoring',
  summary: 'Take a tour down',
  description: 'No longer listed or startable; runs under way finish on their version. Its versions are kept; publishing again makes the next one.',
  access: 'admin',
  params: TourConfigParams,
  responses: { 200: { description: 'Unpublished', json: TourConfigEnvelope } },
  errors: ['not_found', 'tour_not_published'],
}).handle(async ({ params, auth }, { tourConfig }) => {
  const done = await tourConfig.unpublish(auth, params.tourId);
  if (!done.ok) return refused(done.refusal);
  return { status: 200, body: { config: presentConfig(done.value) } };
});
