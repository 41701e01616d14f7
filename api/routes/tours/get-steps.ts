import { z } from 'zod';
import { endpoint, refused } from '../../endpoint';
import { contextQuery } from './context';
import { TourParams } from './get-tour';
import { presentStep, StepView, VariantView } from './views';

const wholeNumber = (min: number, max: number) =>
  z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

export const StepsQuery = z.strictObject({
  from: wholeNumber(0, 10_000).default(0).describe('The index of the first step to return (default 0)'),
  limit: wholeNumber(1, 50).default(3).describe('How many steps, 1 to 50 (default 3)'),
  context: contextQuery.optional(),
});

export const getTourSteps = endpoint({
  operationId: 'getTourSteps',
  method: 'get',
  path: '/api/tours/{id}/steps',
  tag: 'Tours',
  summary: 'The next steps of a tour, for prefetching',
  description: 'The same steps as `GET /api/tours/{id}` (the run\'s version, steps and variant), from `from`, at most `limit` of them.',
  access: 'member',
  params: TourParams,
  query: StepsQuery,
  responses: {
    200: {
      description: 'A page of steps',
      json: z.strictObject({
        steps: z.array(StepView),
        from: z.number().int().min(0),
        total_steps: z.number().int().min(0),
        next_from: z.number().int().min(0).nullable().describe('Where the next page starts; null after the last step'),
        tour_version: z.number().int().positive(),
        ab_test_variant: VariantView,
      }),
    },
  },
  errors: ['not_found'],
}).handle(async ({ params, query, auth }, { tours }) => {
  const found = await tours.steps(auth, params.id, { from: query.from, limit: query.limit }, query.context ?? {});
  if (!found.ok) return refused(found.refusal);
  const { page, total, version, variant } = found.value;
  const next = query.from + page.length;
  return {
    status: 200,
    body: {
      steps: page.map(presentStep),
      from: query.from,
      total_steps: total,
      next_from: next < total ? next : null,
      tour_version: version.version,
      ab_test_variant: variant,
    },
  };
});
