import type { Knex } from 'knex';
import type { Condition } from '../../domain/conditions';
import { STEP_COLUMNS, TOUR_COLUMNS, type StepRow, type TourRow } from './tours';

/** The tour fields admins set (seed 000's tour_definitions, plus the tour-level rules and inactivity period). */
export interface TourFields {
  tour_key?: string;
  name?: string;
  description?: string | null;
  tour_type?: string;
  target_audience?: string[];
  wedding_phase?: string;
  estimated_duration_minutes?: number;
  prerequisite_tours?: string[];
  show_conditions?: Condition;
  skip_conditions?: Condition;
  inactivity_timeout_minutes?: number | null;
}

/** A step as admins write it; order is its place in the list. */
export interface StepFields {
  step_key: string;
  title: string;
  description?: string | null;
  target_element?: string | null;
  content?: Record<string, unknown>;
  position?: string;
  offset?: { x: number; y: number };
  backdrop_enabled?: boolean;
  skip_enabled?: boolean;
  wedding_tip?: string | null;
  pro_tip?: string | null;
  estimated_time_seconds?: number;
  show_conditions?: Condition;
  skip_conditions?: Condition;
}

/** Columns as Postgres takes them: JSON as text, the audience array cast to its enum. */
function columns(db: Knex, f: TourFields): Record<string, unknown> {
  const out: Record<string, unknown> = { ...f };
  if (f.target_audience) out.target_audience = db.raw('?::audience_enum[]', [f.target_audience]);
  if (f.prerequisite_tours) out.prerequisite_tours = db.raw('?::uuid[]', [f.prerequisite_tours]);
  if (f.show_conditions) out.show_conditions = JSON.stringify(f.show_conditions);
  if (f.skip_conditions) out.skip_conditions = JSON.stringify(f.skip_conditions);
  return out;
}

export async function insertTour(db: Knex, orgId: string, fields: TourFields & { tour_key: string; name: string }): Promise<string> {
  const [row] = await db('tour_definitions')
    .insert({ organization_id: orgId, is_active: false, version: '0', ...columns(db, fields) })
    .returning('id');
  return row.id;
}

export async function updateTourFields(db: Knex, tourId: string, fields: TourFields): Promise<void> {
  await db('tour_definitions').where({ id: tourId }).update({ ...columns(db, fields), updated_at: db.fn.now() });
}

export async function setLive(db: Knex, tourId: string, live: boolean): Promise<void> {
  await db('tour_definitions').where({ id: tourId }).update({ is_active: live, updated_at: db.fn.now() });
}

/**
 * Replaces the working copy's steps with `steps`, in that order. A step keeps its id when its key stays,
 * so a client holding a step id finds the same step after an edit.
 */
export async function replaceSteps(db: Knex, orgId: string, tourId: string, steps: StepFields[]): Promise<void> {
  const ids = new Map<string, string>(
    (await db('tour_steps').select('id', 'step_key').where({ tour_id: tourId })).map((r: { id: string; step_key: string }) => [r.step_key, r.id]),
  );
  await db('tour_steps').where({ tour_id: tourId }).delete();
  if (steps.length === 0) return;
  await db('tour_steps').insert(
    steps.map((s, order) => ({
      ...(ids.has(s.step_key) ? { id: ids.get(s.step_key) } : {}),
      organization_id: orgId,
      tour_id: tourId,
      step_order: order,
      ...s,
      ...(s.content ? { content: JSON.stringify(s.content) } : {}),
      ...(s.offset ? { offset: JSON.stringify(s.offset) } : {}),
      ...(s.show_conditions ? { show_conditions: JSON.stringify(s.show_conditions) } : {}),
      ...(s.skip_conditions ? { skip_conditions: JSON.stringify(s.skip_conditions) } : {}),
    })),
  );
}

export interface AdminTourRow extends TourRow {
  step_count: number;
  running_test_id: string | null;
}

function adminTours(db: Knex) {
  return db('tour_definitions as t')
    .select(TOUR_COLUMNS.map((c) => `t.${c}`))
    .select(db.raw('t.target_audience::text[] as target_audience'))
    .select(db.raw('(select count(*)::int from tour_steps s where s.tour_id = t.id) as step_count'))
    .select(db.raw(`(select a.id from tour_ab_tests a where a.tour_id = t.id and a.status = 'running') as running_test_id`));
}

/** Every tour of the organisation, live or not (under RLS, only admins see the ones that are not live). */
export async function listAdminTours(db: Knex, page: { limit: number; after?: string }): Promise<AdminTourRow[]> {
  const q = adminTours(db).orderBy('t.id').limit(page.limit);
  if (page.after) q.where('t.id', '>', page.after);
  return q;
}

export async function findAdminTour(db: Knex, tourId: string): Promise<AdminTourRow | undefined> {
  return adminTours(db).where('t.id', tourId).first();
}

export async function listWorkingSteps(db: Knex, tourId: string): Promise<StepRow[]> {
  return db('tour_steps').select(STEP_COLUMNS).where({ tour_id: tourId }).orderBy('step_order');
}

/** Which of these ids are tours of the caller's organisation (RLS), so a prerequisite can be checked. */
export async function existingTourIds(db: Knex, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  return new Set(await db('tour_definitions').whereIn('id', ids).pluck('id'));
}

/** Each tour's prerequisites, for finding a cycle a new prerequisite would close. */
export async function prerequisiteGraph(db: Knex): Promise<Map<string, string[]>> {
  const rows = await db('tour_definitions').select('id', 'prerequisite_tours');
  return new Map(rows.map((r: { id: string; prerequisite_tours: string[] }) => [r.id, r.prerequisite_tours]));
}

export async function deleteTour(db: Knex, tourId: string): Promise<boolean> {
  return (await db('tour_definitions').where({ id: tourId }).delete()) > 0;
}
