import type { RouteGroup } from '../../openapi';
import { advanceProgress } from './advance-progress';
import { getProgress } from './get-progress';
import { getTourSteps } from './get-steps';
import { getTour } from './get-tour';
import { listTours } from './list-tours';
import { startTour } from './start-tour';
import { streamProgress } from './stream-progress';
import { submitFeedback } from './submit-feedback';

export const toursRoutes: RouteGroup = {
  prefix: '/api/tours',
  access: 'member',
  bodyParsed: true,
  // '/progress/...' before '/{id}', so "progress" is never read as a tour id.
  endpoints: [listTours, getProgress, streamProgress, advanceProgress, submitFeedback, getTour, getTourSteps, startTour],
};
