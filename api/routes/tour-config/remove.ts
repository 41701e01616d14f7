import { endpoint, refused } from '../../endpoint';
import { TourConfigParams } from './views';

export const deleteTourConfig = endpoint({
  operationId: 'deleteTourConfig',
  method: 'delete',
  path: '/api/tours/config/{tourId}',
  tag: 'Authoring',
  summary: 'Delete an unpublished tour',
  description: 'With its steps, versions, progress, analytics and A/B tests. A live tour must be unpublished first (409 `tour_published`).',
  access: 'admin',
  params: TourConfigParams,
  responses: { 204: { description: 'Deleted' } },
  errors: ['not_found', 'tour_published'],
}).handle(async ({ params, auth }, { tourConfig }) => {
  const removed = await tourConfig.remove(auth, params.tourId);
  if (!removed.ok) return refused(removed.refusal);
  return { status: 204 };
});
