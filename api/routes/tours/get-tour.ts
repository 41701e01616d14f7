import { z } from 'zod';
import { endpoint, refused } from '../../endpoint';
import { canonicalUuid } from '../shared';
import { presentProgress, presentStep, presentTour, ProgressView, StepView, TourView } from './views';

export const TourParams = z.strictObject({ id: canonicalUuid() });

export const getTour = endpoint({
  operationId: 'getTour',
  method: 'get',
  path: '/api/tours/{id}',
  tag: 'Tours',
  summary: "A tour, its steps and the caller's progress",
  access: 'member',
  params: TourParams,
  responses: {
    200: {
      description: 'The tour',
      json: z.strictObject({
        tour: z.strictObject({ ...TourView.shape, steps: z.array(StepView) }),
        user_progress: ProgressView.nullable(),
        total_steps: z.number().int().min(0),
      }),
    },
  },
  errors: ['not_found'],
}).handle(async ({ params, auth }, { tours }) => {
  const found = await tours.get(auth, params.id);
  if (!found.ok) return refused(found.refusal);
  const { tour, steps, progress } = found.value;
  return {
    status: 200,
    body: {
      tour: { ...presentTour(tour), steps: steps.map(presentStep) },
      user_progress: progress ? presentProgress(progress) : null,
      total_steps: steps.length,
    },
  };
});
