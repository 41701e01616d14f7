import type { Knex } from 'knex';
import type { Condition } from '../../domain/conditions';
import type { ProgressStatus } from '../../domain/tour-state';
import type { DefinitionSnapshot } from './tour-versions';

export interface TourRow {
  id: string;
  organization_id: string;
  tour_key: string;
  name: string;
  description: string | null;
  tour_type: string;
  version: string;
  target_audience: string[];
  is_active: boolean;
  wedding_phase: string;
  estimated_duration_minutes: number;
  prerequisite_tours: string[];
  /** The live version; null for a tour never published. */
  published_version: number | null;
  show_conditions: Condition;
  skip_conditions: Condition;
  inactivity_timeout_minutes: number | null;
  created_at: Date;
  updated_at: Date;
}

export interface StepRow {
  id: string;
  tour_id: string;
  step_order: number;
  step_key: string;
  title: string;
  description: string | null;
  target_element: string | null;
  content: Record<string, unknown>;
  position: string;
  offset: { x: number; y: number };
  backdrop_enabled: boolean;
  skip_enabled: boolean;
  wedding_tip: string | null;
  pro_tip: string | null;
  estimated_time_seconds: number;
  show_conditions: Condition;
  skip_conditions: Condition;
}

export const TOUR_COLUMNS = [
  'id', 'organization_id', 'tour_key', 'name', 'description', 'tour_type', 'version', 'is_active',
  'wedding_phase', 'estimated_duration_minutes', 'prerequisite_tours', 'published_version', 'show_conditions',
  'skip_conditions', 'inactivity_timeout_minutes', 'created_at', 'updated_at',
];
// Postgres returns enum arrays as the literal '{couples,planners}' unless cast to text[].
const AUDIENCE = 'target_audience::text[] as target_audience';

export const STEP_COLUMNS = [
  'id', 'tour_id', 'step_order', 'step_key', 'title', 'description', 'target_element', 'content', 'position',
  'offset', 'backdrop_enabled', 'skip_enabled', 'wedding_tip', 'pro_tip', 'estimated_time_seconds',
  'show_conditions', 'skip_conditions',
];

/** A live tour as its published version defines it, with the caller's own progress on it. */
export interface LiveTour {
  id: string;
  organization_id: string;
  is_active: boolean;
  published_version: number;
  definition: DefinitionSnapshot;
  step_count: number;
  progress_id: string | null;
  progress_status: ProgressStatus | null;
  progress_completed_steps: number[] | null;
  progress_current_step_index: number | null;
  progress_tour_version: number | null;
  progress_ab_test_id: string | null;
  progress_ab_variant: 'a' | 'b' | null;
}

/** The organisation's live tours (RLS scopes it) at their published version, with `userId`'s progress joined. */
export async function listLiveTours(db: Knex, userId: string): Promise<LiveTour[]> {
  return db('tour_definitions as t')
    .join('tour_versions as v', (j) => j.on('v.tour_id', 't.id').andOn('v.version', 't.published_version'))
    .leftJoin('user_tour_progress as p', (j) => j.on('p.tour_id', 't.id').andOn('p.user_id', db.raw('?', [userId])))
    .select('t.id', 't.organization_id', 't.is_active', 't.published_version', 'v.definition')
    .select(db.raw('jsonb_array_length(v.steps)::int as step_count'))
    .select({
      progress_id: 'p.id',
      progress_status: 'p.status',
      progress_completed_steps: 'p.completed_steps',
      progress_current_step_index: 'p.current_step_index',
      progress_tour_version: 'p.tour_version',
      progress_ab_test_id: 'p.ab_test_id',
      progress_ab_variant: 'p.ab_variant',
    })
    .where('t.is_active', true);
}

/** The tours `userId` has completed (any organisation's tours RLS lets the caller see: their own). */
export async function listCompletedTourIds(db: Knex, userId: string): Promise<string[]> {
  return db('user_tour_progress').where({ user_id: userId, status: 'completed' }).pluck('tour_id');
}

/** The tour's working copy (what admins edit); under RLS a member sees only live ones. */
export async function findTour(db: Knex, id: string): Promise<TourRow | undefined> {
  return db('tour_definitions').select(TOUR_COLUMNS).select(db.raw(AUDIENCE)).where({ id }).first();
}

/** The working copy's steps, in order. */
export async function listSteps(db: Knex, tourId: string): Promise<StepRow[]> {
  return db('tour_steps').select(STEP_COLUMNS).where({ tour_id: tourId }).orderBy('step_order');
}

