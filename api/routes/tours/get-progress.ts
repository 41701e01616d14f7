import { z } from 'zod';
import { isFinished } from '../../../domain/tour-state';
import { endpoint, refused } from '../../endpoint';
import { canonicalUuid } from '../shared';
import { currentStep, presentProgress, ProgressView, StepView } from './views';

export const ProgressParams = z.strictObject({ progressId: canonicalUuid() });

export const getProgress = endpoint({
  operationId: 'getProgress',
  method: 'get',
  path: '/api/tours/progress/{progressId}',
  tag: 'Tours',
  summary: 'A progress record, its current step and what remains',
  description: "A member reads their own progress; an admin may read any member's.",
  access: 'member',
  params: ProgressParams,
  responses: {
    200: {
      description: 'The progress',
      json: z.strictObject({
        progress: ProgressView,
        current_step: StepView.nullable(),
        remaining_steps: z.number().int().min(0),
        completion_percentage: z.number().int().min(0).max(100),
      }),
    },
  },
  errors: ['not_found'],
}).handle(async ({ params, auth }, { tours }) => {
  const found = await tours.getProgress(auth, params.progressId);
  if (!found.ok) return refused(found.refusal);
  const { state, steps } = found.value;
  const progress = presentProgress(state);
  return {
    status: 200,
    body: {
      progress,
      current_step: currentStep(state, steps),
      remaining_steps: isFinished(state.status) ? 0 : Math.max(state.totalSteps - state.currentStepIndex, 0),
      completion_percentage: progress.completion_percentage,
    },
  };
});
