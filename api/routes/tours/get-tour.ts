import { z } from 'zod';
import { endpoint, refused } from '../../endpoint';
import { canonicalUuid } from '../shared';
import { contextQuery } from './context';
import { presentProgress, presentStep, presentTour, ProgressView, StepView, TourView, VariantView } from './views';

export const TourParams = z.strictObject({ id: canonicalUuid() });
export const TourContextQuery = z.strictObject({ context: contextQuery.optional() });

export const getTour = endpoint({
  operationId: 'getTour',
  method: 'get',
  path: '/api/tours/{id}',
  tag: 'Tours',
  summary: "A tour, its steps and the caller's progress",
  description:
    "A tour under way (or finished) shows the version its run started on, the steps its rules kept and its A/B variant. Otherwise the live version with the steps the caller's rules keep now (`context`), and, while the tour has a running A/B test, the caller's variant merged into them: showing it records the caller's exposure.",
  access: 'member',
  params: TourParams,
  query: TourContextQuery,
  responses: {
    200: {
      description: 'The tour',
      json: z.strictObject({
        tour: z.strictObject({ ...TourView.shape, steps: z.array(StepView) }),
        user_progress: ProgressView.nullable(),
        total_steps: z.number().int().min(0),
        ab_test_variant: VariantView,
      }),
    },
  },
  errors: ['not_found'],
}).handle(async ({ params, query, auth }, { tours }) => {
  const found = await tours.get(auth, params.id, query.context ?? {});
  if (!found.ok) return refused(found.refusal);
  const { version, steps, progress, variant } = found.value;
  return {
    status: 200,
    body: {
      tour: { ...presentTour({ id: params.id, version: version.version, is_active: true, definition: version.definition }), steps: steps.map(presentStep) },
      user_progress: progress ? presentProgress(progress) : null,
      total_steps: steps.length,
      ab_test_variant: variant,
    },
  };
});
