import { completionPercentage, type TourState } from '../domain/tour-state';
import { progressColumns } from '../db/repositories/progress';
import type { StepRow, TourRow } from '../db/repositories/tours';

/** The one shape of a progress record in every response, whether it came from Postgres or the workflow. */
export function presentProgress(s: TourState) {
  return { ...progressColumns(s), completion_percentage: completionPercentage(s) };
}

export function presentStep(step: StepRow | undefined) {
  if (!step) return null;
  return {
    id: step.id,
    step_order: step.step_order,
    step_key: step.step_key,
    title: step.title,
    description: step.description,
    target_element: step.target_element,
    content: step.content,
    position: step.position,
    offset: step.offset,
    backdrop_enabled: step.backdrop_enabled,
    skip_enabled: step.skip_enabled,
    wedding_tip: step.wedding_tip,
    pro_tip: step.pro_tip,
    estimated_time_seconds: step.estimated_time_seconds,
    show_conditions: step.show_conditions,
    skip_conditions: step.skip_conditions,
  };
}

export function presentTour(tour: TourRow) {
  return {
    id: tour.id,
    tour_key: tour.tour_key,
    name: tour.name,
    description: tour.description,
    tour_type: tour.tour_type,
    version: tour.version,
    target_audience: tour.target_audience,
    wedding_phase: tour.wedding_phase,
    estimated_duration_minutes: tour.estimated_duration_minutes,
    prerequisite_tours: tour.prerequisite_tours,
    is_active: tour.is_active,
  };
}

/** The step the user is on now, or null once the tour is finished. */
export function currentStep(state: TourState, steps: StepRow[]) {
  return state.status === 'completed' || state.status === 'skipped_all' ? null : presentStep(steps[state.currentStepIndex]);
}

/** Seconds the remaining steps are expected to take, from each step's estimate. */
export function remainingSeconds(state: TourState, steps: StepRow[]): number {
  if (state.status === 'completed' || state.status === 'skipped_all') return 0;
  return steps.slice(state.currentStepIndex).reduce((sum, s) => sum + s.estimated_time_seconds, 0);
}
