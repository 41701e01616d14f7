import type { Knex } from 'knex';
import { shapeOf, type TourShape } from '../../domain/tour-state';

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
  show_conditions: Record<string, unknown>;
  skip_conditions: Record<string, unknown>;
}

const TOUR_COLUMNS = [
  'id', 'organization_id', 'tour_key', 'name', 'description', 'tour_type', 'version', 'is_active',
  'wedding_phase', 'estimated_duration_minutes', 'prerequisite_tours', 'created_at', 'updated_at',
];
// Postgres returns enum arrays as the literal '{couples,planners}' unless cast to text[].
const AUDIENCE = 'target_audience::text[] as target_audience';

const STEP_COLUMNS = [
  'id', 'tour_id', 'step_order', 'step_key', 'title', 'description', 'target_element', 'content', 'position',
  'offset', 'backdrop_enabled', 'skip_enabled', 'wedding_tip', 'pro_tip', 'estimated_time_seconds',
  'show_conditions', 'skip_conditions',
];

export interface TourListFilter {
  userId: string;
  audience?: string[];
  weddingPhase?: string;
  includeCompleted: boolean;
}

export interface TourListItem extends TourRow {
  progress_status: string | null;
  progress_completed_steps: number[] | null;
  progress_current_step_index: number | null;
  progress_id: string | null;
  step_count: number;
}

/** Active tours of the caller's organisation (RLS scopes it), with the caller's own progress joined. */
export async function listTours(db: Knex, filter: TourListFilter): Promise<TourListItem[]> {
  const q = db('tour_definitions as t')
    .select(TOUR_COLUMNS.map((c) => `t.${c}`))
    .select(db.raw('t.target_audience::text[] as target_audience'))
    .select({
      progress_id: 'p.id',
      progress_status: 'p.status',
      progress_completed_steps: 'p.completed_steps',
      progress_current_step_index: 'p.current_step_index',
    })
    .select(db.raw('(select count(*)::int from tour_steps s where s.tour_id = t.id) as step_count'))
    .leftJoin('user_tour_progress as p', (j) => j.on('p.tour_id', 't.id').andOn('p.user_id', db.raw('?', [filter.userId])))
    .where('t.is_active', true)
    .orderBy([{ column: 't.wedding_phase' }, { column: 't.name' }]);
  if (filter.audience && filter.audience.length > 0) {
    q.whereRaw('t.target_audience && ?::audience_enum[]', [filter.audience]);
  }
  if (filter.weddingPhase) q.where('t.wedding_phase', filter.weddingPhase);
  if (!filter.includeCompleted) {
    q.where((w) => w.whereNull('p.status').orWhereNotIn('p.status', ['completed', 'skipped_all']));
  }
  return q;
}

export async function findTour(db: Knex, id: string): Promise<TourRow | undefined> {
  return db('tour_definitions').select(TOUR_COLUMNS).select(db.raw(AUDIENCE)).where({ id }).first();
}

export async function listSteps(db: Knex, tourId: string): Promise<StepRow[]> {
  return db('tour_steps').select(STEP_COLUMNS).where({ tour_id: tourId }).orderBy('step_order');
}

/**
 * What the workflow needs from a definition, read by the worker (its role reads every organisation's): its shape,
 * and its own inactivity period (null: the configured default).
 */
export async function loadTourForWorkflow(
  db: Knex,
  orgId: string,
  tourId: string,
): Promise<{ shape: TourShape; inactivityTimeoutMinutes: number | null } | null> {
  const tour = await db('tour_definitions')
    .select('id', 'name', 'is_active', 'inactivity_timeout_minutes')
    .where({ id: tourId, organization_id: orgId })
    .first();
  if (!tour) return null;
  const steps = await db('tour_steps').select('step_key', 'skip_enabled').where({ tour_id: tourId }).orderBy('step_order');
  return { shape: shapeOf(tour.id, tour.name, steps), inactivityTimeoutMinutes: tour.inactivity_timeout_minutes ?? null };
}
