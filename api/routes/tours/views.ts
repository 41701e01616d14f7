import { z } from 'zod';
import { progressColumns } from '../../../db/repositories/progress';
import type { DefinitionSnapshot } from '../../../db/repositories/tour-versions';
import type { StepRow } from '../../../db/repositories/tours';
import { VARIANTS } from '../../../domain/ab';
import { AUDIENCES, WEDDING_PHASES } from '../../../domain/targeting';
import { completionPercentage, DEVICE_TYPES, isFinished, PROGRESS_STATUSES, type TourState } from '../../../domain/tour-state';
import type { TourRefusal } from '../../../services/tours';
import { named } from '../../openapi';
import { jsonObject, timestamp, canonicalUuid } from '../shared';

// Seed 000's enums, as Postgres holds them.
export { AUDIENCES, WEDDING_PHASES };
export const TOUR_TYPES = ['onboarding', 'feature_introduction', 'troubleshooting', 'wedding_milestone', 'seasonal_features', 'pro_tips'] as const;
export const POSITIONS = ['top', 'bottom', 'left', 'right', 'top-left', 'top-right', 'bottom-left', 'bottom-right'] as const;

/** Seed 000's ab_test_variant: the variant of the tour's A/B test this person is shown, null outside any test. */
export const VariantView = z.enum(VARIANTS).nullable();

const count = z.number().int().min(0);

export const ProgressView = named(
  'Progress',
  z.strictObject({
    id: canonicalUuid(),
    user_id: canonicalUuid(),
    organization_id: canonicalUuid(),
    tour_id: canonicalUuid(),
    status: z.enum(PROGRESS_STATUSES),
    current_step_index: count,
    completed_steps: z.array(count),
    skipped_steps: z.array(count),
    total_steps: count,
    version: count.describe('Bumped by every accepted move; send it back as expected_version to refuse a stale move'),
    started_at: timestamp.nullable(),
    completed_at: timestamp.nullable(),
    last_interaction_at: timestamp.nullable(),
    total_time_seconds: count,
    user_rating: z.number().int().min(1).max(5).nullable(),
    feedback: z.string().nullable(),
    was_helpful: z.boolean().nullable(),
    device_type: z.enum(DEVICE_TYPES).nullable(),
    viewport_size: z.strictObject({ width: z.number().int(), height: z.number().int() }).nullable(),
    completion_percentage: z.number().int().min(0).max(100),
    tour_version: z.number().int().positive().nullable().describe('The published version this run started on and keeps to its end (null: a run from before versions)'),
    ab_test_variant: VariantView,
  }),
);

export const StepView = named(
  'Step',
  z.strictObject({
    id: canonicalUuid(),
    step_order: count,
    step_key: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    target_element: z.string().nullable().describe('CSS selector of the element the step points at'),
    content: jsonObject,
    position: z.enum(POSITIONS),
    offset: z.strictObject({ x: z.number(), y: z.number() }),
    backdrop_enabled: z.boolean(),
    skip_enabled: z.boolean(),
    wedding_tip: z.string().nullable(),
    pro_tip: z.string().nullable(),
    estimated_time_seconds: count,
    show_conditions: jsonObject,
    skip_conditions: jsonObject,
  }),
);

export const TourView = named(
  'Tour',
  z.strictObject({
    id: canonicalUuid(),
    tour_key: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    tour_type: z.enum(TOUR_TYPES),
    version: z.string().describe('The published version shown, as a whole number: a running tour shows the one it started on'),
    target_audience: z.array(z.enum(AUDIENCES)),
    wedding_phase: z.enum(WEDDING_PHASES),
    estimated_duration_minutes: z.number().int().positive(),
    prerequisite_tours: z.array(canonicalUuid()),
    is_active: z.boolean(),
  }),
);

/** A tour's definition at one published version, as members see it. */
export interface PublishedTour {
  id: string;
  version: number;
  is_active: boolean;
  definition: DefinitionSnapshot;
}

/** The one shape of a progress record in every response, whether it came from Postgres or the workflow. */
export function presentProgress(s: TourState): z.input<typeof ProgressView> {
  const { tour_version, step_keys: _keys, ab_test_id: _test, ab_variant, ...columns } = progressColumns(s);
  return { ...columns, completion_percentage: completionPercentage(s), tour_version, ab_test_variant: ab_variant };
}

export function presentStep(step: StepRow): z.input<typeof StepView> {
  return {
    id: step.id,
    step_order: step.step_order,
    step_key: step.step_key,
    title: step.title,
    description: step.description,
    target_element: step.target_element,
    content: step.content,
    position: step.position as (typeof POSITIONS)[number],
    offset: step.offset,
    backdrop_enabled: step.backdrop_enabled,
    skip_enabled: step.skip_enabled,
    wedding_tip: step.wedding_tip,
    pro_tip: step.pro_tip,
    estimated_time_seconds: step.estimated_time_seconds,
    show_conditions: step.show_conditions as Record<string, unknown>,
    skip_conditions: step.skip_conditions as Record<string, unknown>,
  };
}

export function presentTour(tour: PublishedTour): z.input<typeof TourView> {
  const d = tour.definition;
  return {
    id: tour.id,
    tour_key: d.tour_key,
    name: d.name,
    description: d.description,
    tour_type: d.tour_type as (typeof TOUR_TYPES)[number],
    version: String(tour.version),
    target_audience: d.target_audience as (typeof AUDIENCES)[number][],
    wedding_phase: d.wedding_phase as (typeof WEDDING_PHASES)[number],
    estimated_duration_minutes: d.estimated_duration_minutes,
    prerequisite_tours: d.prerequisite_tours,
    is_active: tour.is_active,
  };
}

/** The step the user is on now, or null once the tour is finished. */
export function currentStep(state: TourState, steps: StepRow[]): z.input<typeof StepView> | null {
  const step = steps[state.currentStepIndex];
  return isFinished(state.status) || !step ? null : presentStep(step);
}

/** Seconds the remaining steps are expected to take, from each step's estimate. */
export function remainingSeconds(state: TourState, steps: StepRow[]): number {
  if (isFinished(state.status)) return 0;
  return steps.slice(state.currentStepIndex).reduce((sum, s) => sum + s.estimated_time_seconds, 0);
}

/** A refused move shows the progress the workflow ruled on, so the client can catch up without another read. */
export function withCurrentProgress<Code extends string>(refusal: TourRefusal<Code>) {
  const { state, ...rest } = refusal;
  return state ? { ...rest, details: { ...rest.details, current_progress: presentProgress(state) } } : rest;
}
