import { z } from 'zod';
import { isFinished, TOUR_ACTIONS, TRANSITION_ERROR_CODES } from '../../../domain/tour-state';
import { WORKFLOW_SERVICE_ERROR_CODES } from '../../../services/temporal';
import { endpoint, refused } from '../../endpoint';
import { ProgressParams } from './get-progress';
import { currentStep, presentProgress, ProgressView, StepView, withCurrentProgress } from './views';

export const AdvanceProgressBody = z.strictObject({
  action: z.enum(TOUR_ACTIONS),
  step_index: z.number().int().min(0).optional().describe('The step the client is on; a different one is refused (step_mismatch)'),
  step_key: z.string().min(1).max(100).optional().describe('Same, by key'),
  interaction_time_ms: z.number().int().min(0).max(24 * 3600 * 1000).optional(),
  user_feedback: z
    .strictObject({
      rating: z.number().int().min(1).max(5).optional(),
      feedback: z.string().max(5000).optional(),
      was_helpful: z.boolean().optional(),
    })
    .optional(),
  expected_version: z.number().int().min(0).optional().describe('The progress version the client last saw; a stale one gets 409 with the current progress'),
  subscription_interest: z
    .strictObject({ plan: z.string().trim().min(1).max(50) })
    .optional()
    .describe('The couple wants a paid plan: the payment integration records it when this move completes the tour (complete_tour or next_step only)'),
});

export const advanceProgress = endpoint({
  operationId: 'advanceProgress',
  method: 'put',
  path: '/api/tours/progress/{progressId}',
  tag: 'Tours',
  summary: 'Move through a tour: next, previous, skip, complete or abandon',
  description: "Sent to the tour's workflow, which serialises moves from every device; the answer is written to Postgres before it is returned.",
  access: 'member',
  params: ProgressParams,
  body: AdvanceProgressBody,
  responses: {
    200: {
      description: 'The move was accepted',
      json: z.strictObject({
        progress: ProgressView,
        next_step: StepView.nullable().describe('The step to show now; null once the tour is finished'),
        tour_completed: z.boolean(),
        celebration_trigger: z.boolean().describe('True for the move that completed the tour'),
      }),
    },
  },
  rateLimit: 'progress',
  errors: ['not_found', 'not_your_progress', 'subscription_interest_without_completion', ...TRANSITION_ERROR_CODES, ...WORKFLOW_SERVICE_ERROR_CODES],
}).handle(async ({ params, body, auth }, { tours }) => {
  const moved = await tours.advance(auth, params.progressId, {
    action: body.action,
    ...(body.step_index !== undefined ? { stepIndex: body.step_index } : {}),
    ...(body.step_key !== undefined ? { stepKey: body.step_key } : {}),
    ...(body.interaction_time_ms !== undefined ? { interactionTimeMs: body.interaction_time_ms } : {}),
    ...(body.expected_version !== undefined ? { expectedVersion: body.expected_version } : {}),
    ...(body.subscription_interest ? { subscriptionInterest: { plan: body.subscription_interest.plan } } : {}),
    ...(body.user_feedback
      ? {
          feedback: {
            ...(body.user_feedback.rating !== undefined ? { rating: body.user_feedback.rating } : {}),
            ...(body.user_feedback.feedback !== undefined ? { feedback: body.user_feedback.feedback } : {}),
            ...(body.user_feedback.was_helpful !== undefined ? { wasHelpful: body.user_feedback.was_helpful } : {}),
          },
        }
      : {}),
  });
  if (!moved.ok) return refused(withCurrentProgress(moved.refusal));
  const { state, steps, celebrate } = moved.value;
  return {
    status: 200,
    body: { progress: presentProgress(state), next_step: currentStep(state, steps), tour_completed: isFinished(state.status), celebration_trigger: celebrate },
  };
});
