import { z } from 'zod';
import { WORKFLOW_SERVICE_ERROR_CODES } from '../../../services/temporal';
import { FEEDBACK_ERROR_CODES } from '../../../domain/tour-state';
import { endpoint, refused } from '../../endpoint';
import { ProgressParams } from './get-progress';
import { presentProgress, ProgressView, withCurrentProgress } from './views';

export const FeedbackBody = z
  .strictObject({
    rating: z.number().int().min(1).max(5).optional(),
    feedback: z.string().max(5000).optional(),
    was_helpful: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'send a rating, a comment (feedback) or was_helpful' });

export const submitFeedback = endpoint({
  operationId: 'submitFeedback',
  method: 'post',
  path: '/api/tours/progress/{progressId}/feedback',
  tag: 'Tours',
  summary: 'Rate a finished tour, once',
  description:
    "For a completed (or skipped) tour, by the person who took it. It reaches the hub's feedback_submitted route (a note in the CRM) through the tour's workflow. Feedback given with the completing move counts: a second rating gets 409 `feedback_already_given`.",
  access: 'member',
  params: ProgressParams,
  body: FeedbackBody,
  responses: { 201: { description: 'Recorded', json: z.strictObject({ progress: ProgressView }) } },
  errors: ['not_found', 'not_your_progress', ...FEEDBACK_ERROR_CODES, ...WORKFLOW_SERVICE_ERROR_CODES],
}).handle(async ({ params, body, auth }, { tours }) => {
  const rated = await tours.feedback(auth, params.progressId, {
    ...(body.rating !== undefined ? { rating: body.rating } : {}),
    ...(body.feedback !== undefined ? { feedback: body.feedback } : {}),
    ...(body.was_helpful !== undefined ? { wasHelpful: body.was_helpful } : {}),
  });
  if (!rated.ok) return refused(withCurrentProgress(rated.refusal));
  return { status: 201, body: { progress: presentProgress(rated.value.state) } };
});
