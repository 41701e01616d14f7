import { z } from 'zod';
import { DEVICE_TYPES } from '../../../domain/tour-state';
import { endpoint, refused } from '../../endpoint';
import { canonicalUuid } from '../shared';
import { TourParams } from './get-tour';
import { contextBody } from './context';
import { currentStep, presentProgress, ProgressView, remainingSeconds, StepView, VariantView, withCurrentProgress } from './views';

const viewport = z.strictObject({
  width: z.number().int().positive().max(100_000),
  height: z.number().int().positive().max(100_000),
});

export const StartTourBody = z.strictObject({
  device_type: z.enum(DEVICE_TYPES).optional(),
  viewport_size: viewport.optional(),
  restart: z.boolean().optional().describe('Take a finished tour again from its first step'),
  context: contextBody.optional(),
});

const Started = z.strictObject({
  progress_id: canonicalUuid(),
  progress: ProgressView,
  current_step: StepView.nullable(),
  total_steps: z.number().int().min(0),
  estimated_completion_time: z.number().int().min(0).describe('Seconds the remaining steps are expected to take'),
  ab_test_variant: VariantView,
});

export const startTour = endpoint({
  operationId: 'startTour',
  method: 'post',
  path: '/api/tours/{id}/start',
  tag: 'Tours',
  summary: 'Start a tour, resume an abandoned one, or restart a finished one',
  description:
    "Idempotent while the tour is in progress: a second start answers 200 with the running progress. A start that begins a run (a first start, or a restart) takes the live version and the steps the caller's rules keep (`context` and the member profile), needs the tour's prerequisites completed (409 `prerequisites_missing` names them), and gives the caller their variant of the tour's running A/B test. The run keeps all three to its end.",
  access: 'member',
  params: TourParams,
  body: StartTourBody,
  responses: {
    200: { description: 'The tour was already in progress: its progress, unchanged', json: Started },
    201: { description: 'Started (or resumed, or restarted)', json: Started },
  },
  rateLimit: 'start',
  errors: ['not_found', 'prerequisites_missing', 'tour_has_no_steps', 'tour_already_finished', 'temporal_unavailable', 'tour_timeout', 'tour_busy'],
}).handle(async ({ params, body, auth }, { tours }) => {
  const started = await tours.start(auth, params.id, {
    ...(body.device_type ? { deviceType: body.device_type } : {}),
    ...(body.viewport_size ? { viewportSize: body.viewport_size } : {}),
    ...(body.restart ? { restart: true } : {}),
  }, body.context ?? {});
  if (!started.ok) return refused(withCurrentProgress(started.refusal));
  const { state, steps, created, variant } = started.value;
  return {
    status: created ? 201 : 200,
    body: {
      progress_id: state.progressId,
      progress: presentProgress(state),
      current_step: currentStep(state, steps),
      total_steps: steps.length,
      estimated_completion_time: remainingSeconds(state, steps),
      ab_test_variant: variant,
    },
  };
});
