import type { Knex } from 'knex';
import type { Condition } from '../../domain/conditions';
import { shapeOf, type TourShape } from '../../domain/tour-state';
import type { StepRow } from './tours';

/** A tour's definition as one version froze it: everything but its steps. */
export interface DefinitionSnapshot {
  tour_key: string;
  name: string;
  description: string | null;
  tour_type: string;
  target_audience: string[];
  wedding_phase: string;
  estimated_duration_minutes: number;
  prerequisite_tours: string[];
  show_conditions: Condition;
  skip_conditions: Condition;
}

export interface VersionRow {
  tour_id: string;
  organization_id: string;
  version: number;
  definition: DefinitionSnapshot;
  steps: StepRow[];
  published_by: string | null;
  published_at: Date;
}

/** The working copy of `t` (a tour_definitions row) and its steps, as a version stores them. */
const SNAPSHOT_SQL = `
  jsonb_build_object(
    'tour_key', t.tour_key, 'name', t.name, 'description', t.description, 'tour_type', t.tour_type,
    'target_audience', to_jsonb(t.target_audience::text[]), 'wedding_phase', t.wedding_phase,
    'estimated_duration_minutes', t.estimated_duration_minutes,
    'prerequisite_tours', to_jsonb(t.prerequisite_tours), 'show_conditions', t.show_conditions,
    'skip_conditions', t.skip_conditions),
  coalesce((
    SELECT jsonb_agg(jsonb_build_object(
      'id', s.id, 'tour_id', s.tour_id, 'step_order', s.step_order, 'step_key', s.step_key, 'title', s.title,
      'description', s.description, 'target_element', s.target_element, 'content', s.content,
      'position', s.position, 'offset', s."offset", 'backdrop_enabled', s.backdrop_enabled,
      'skip_enabled', s.skip_enabled, 'wedding_tip', s.wedding_tip, 'pro_tip', s.pro_tip,
      'estimated_time_seconds', s.estimated_time_seconds, 'show_conditions', s.show_conditions,
      'skip_conditions', s.skip_conditions) ORDER BY s.step_order)
    FROM tour_steps s WHERE s.tour_id = t.id), '[]'::jsonb)`;

/**
 * Freezes the tour's working copy as its next version and makes that version live. The tour's row is
 * locked first, so two publishes at once get consecutive numbers. Returns the new version, or
 * undefined when the tour is not there (or not the caller's to publish, under RLS).
 */
export async function publishVersion(trx: Knex, tourId: string, publishedBy: string | null): Promise<number | undefined> {
  const locked = await trx('tour_definitions').select('id').where({ id: tourId }).forUpdate().first();
  if (!locked) return undefined;
  const inserted = await trx.raw(
    `INSERT INTO tour_versions (organization_id, tour_id, version, definition, steps, published_by)
     SELECT t.organization_id, t.id,
            coalesce((SELECT max(v.version) FROM tour_versions v WHERE v.tour_id = t.id), 0) + 1,
            ${SNAPSHOT_SQL}, ?
       FROM tour_definitions t WHERE t.id = ?
     RETURNING version`,
    [publishedBy, tourId],
  );
  const version = inserted.rows[0].version as number;
  await trx('tour_definitions')
    .where({ id: tourId })
    .update({ published_version: version, version: String(version), is_active: true, updated_at: trx.fn.now() });
  return version;
}

/**
 * Publishes the working copy only if it differs from the live version (a seed run again publishes
 * nothing new); returns the live version either way.
 */
export async function publishIfChanged(trx: Knex, tourId: string, publishedBy: string | null): Promise<number | undefined> {
  const live = await trx('tour_definitions').select('published_version', 'is_active').where({ id: tourId }).first();
  if (live?.is_active && (await workingCopyIsLive(trx, tourId))) return live.published_version as number;
  return publishVersion(trx, tourId, publishedBy);
}

/** Whether the working copy is exactly what its last published version froze (no unpublished changes). */
export async function workingCopyIsLive(db: Knex, tourId: string): Promise<boolean> {
  const same = await db.raw(
    `SELECT 1 FROM tour_definitions t
       JOIN tour_versions v ON v.tour_id = t.id AND v.version = t.published_version
      WHERE t.id = ? AND (v.definition, v.steps) = (SELECT ${SNAPSHOT_SQL})`,
    [tourId],
  );
  return same.rows.length > 0;
}

const VERSION_COLUMNS = ['tour_id', 'organization_id', 'version', 'definition', 'steps', 'published_by', 'published_at'];

export async function findVersion(db: Knex, tourId: string, version: number): Promise<VersionRow | undefined> {
  return db('tour_versions').select(VERSION_COLUMNS).where({ tour_id: tourId, version }).first();
}

export interface VersionSummary {
  version: number;
  published_at: Date;
  published_by: string | null;
  step_count: number;
}

/** Every published version of the tour, newest first. */
export async function listVersions(db: Knex, tourId: string): Promise<VersionSummary[]> {
  return db('tour_versions')
    .select('version', 'published_at', 'published_by', db.raw('jsonb_array_length(steps)::int as step_count'))
    .where({ tour_id: tourId })
    .orderBy('version', 'desc');
}

/**
 * The shape of one run, for the worker (owner connection): the steps of `version` (the live one when
 * undefined) that `stepKeys` names (all of them when null), in the version's order. Null when the tour or
 * the version is gone. A tour never published has no versions: its working copy is used, as before
 * versions existed.
 */
export async function loadRunShape(
  db: Knex,
  orgId: string,
  tourId: string,
  run: { version?: number | null; stepKeys?: string[] | null },
): Promise<{ shape: TourShape; inactivityTimeoutMinutes: number | null } | null> {
  const tour = await db('tour_definitions')
    .select('id', 'name', 'published_version', 'inactivity_timeout_minutes')
    .where({ id: tourId, organization_id: orgId })
    .first();
  if (!tour) return null;
  const timeout = (tour.inactivity_timeout_minutes as number | null) ?? null;
  const version = run.version ?? (tour.published_version as number | null);
  if (version === null || version === undefined) {
    const steps = await db('tour_steps').select('step_key', 'skip_enabled').where({ tour_id: tourId }).orderBy('step_order');
    return { shape: shapeOf(tour.id, tour.name, steps), inactivityTimeoutMinutes: timeout };
  }
  const row = await findVersion(db, tourId, version);
  if (!row) return null;
  const keys = run.stepKeys ? new Set(run.stepKeys) : null;
  const steps = keys ? row.steps.filter((s) => keys.has(s.step_key)) : row.steps;
  return { shape: { ...shapeOf(tour.id, row.definition.name, steps), version }, inactivityTimeoutMinutes: timeout };
}
