import type { Knex } from 'knex';
import type { AbMetric, AbTestStatus, Variant, VariantConfig } from '../../domain/ab';

export interface AbTestRow {
  id: string;
  organization_id: string;
  tour_id: string;
  test_name: string;
  description: string | null;
  variant_a: VariantConfig;
  variant_b: VariantConfig;
  traffic_split: number;
  status: AbTestStatus;
  start_date: Date | null;
  end_date: Date | null;
  primary_metric: AbMetric;
  minimum_sample_size: number;
  statistical_significance: number;
  minimum_detectable_effect: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = [
  'id', 'organization_id', 'tour_id', 'test_name', 'description', 'variant_a', 'variant_b', 'traffic_split', 'status', 'start_date',
  'end_date', 'primary_metric', 'minimum_sample_size', 'statistical_significance', 'minimum_detectable_effect', 'created_at', 'updated_at',
];

/** DECIMAL columns come back from pg as text: numbers here, once. */
function toRow(raw: Record<string, unknown> | undefined): AbTestRow | undefined {
  if (!raw) return undefined;
  return {
    ...(raw as unknown as AbTestRow),
    traffic_split: Number(raw.traffic_split),
    statistical_significance: Number(raw.statistical_significance),
    minimum_detectable_effect: Number(raw.minimum_detectable_effect),
  };
}

export interface AbTestFields {
  test_name?: string;
  description?: string | null;
  variant_a?: VariantConfig;
  variant_b?: VariantConfig;
  traffic_split?: number;
  primary_metric?: AbMetric;
  minimum_sample_size?: number;
  statistical_significance?: number;
  minimum_detectable_effect?: number;
}

const json = (f: AbTestFields) => ({
  ...f,
  ...(f.variant_a ? { variant_a: JSON.stringify(f.variant_a) } : {}),
  ...(f.variant_b ? { variant_b: JSON.stringify(f.variant_b) } : {}),
});

export async function insertAbTest(db: Knex, orgId: string, tourId: string, fields: AbTestFields & { test_name: string }): Promise<AbTestRow> {
  const [row] = await db('tour_ab_tests').insert({ organization_id: orgId, tour_id: tourId, ...json(fields) }).returning(COLUMNS);
  return toRow(row)!;
}

export async function findAbTest(db: Knex, id: string): Promise<AbTestRow | undefined> {
  return toRow(await db('tour_ab_tests').select(COLUMNS).where({ id }).first());
}

export async function listAbTests(db: Knex, filter: { tourId?: string; status?: AbTestStatus }): Promise<AbTestRow[]> {
  const q = db('tour_ab_tests').select(COLUMNS).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id' }]);
  if (filter.tourId) q.where({ tour_id: filter.tourId });
  if (filter.status) q.where({ status: filter.status });
  return (await q).map((r: Record<string, unknown>) => toRow(r)!);
}

export async function updateAbTest(db: Knex, id: string, fields: AbTestFields & { status?: AbTestStatus; start_date?: Date | Knex.Raw; end_date?: Date | Knex.Raw }): Promise<AbTestRow | undefined> {
  const [row] = await db('tour_ab_tests').where({ id }).update({ ...json(fields), updated_at: db.fn.now() }).returning(COLUMNS);
  return toRow(row);
}

/** The running test of each of these tours (at most one each: a unique index says so). */
export async function findRunningTests(db: Knex, tourIds: readonly string[]): Promise<Map<string, AbTestRow>> {
  if (tourIds.length === 0) return new Map();
  const rows = await db('tour_ab_tests').select(COLUMNS).whereIn('tour_id', tourIds).andWhere({ status: 'running' });
  return new Map(rows.map((r: Record<string, unknown>) => [r.tour_id as string, toRow(r)!]));
}

/** The caller's stored variants in these tests (RLS computes the caller's hash: nobody else's are visible). */
export async function findOwnAssignments(db: Knex, userId: string, testIds: readonly string[]): Promise<Map<string, Variant>> {
  if (testIds.length === 0) return new Map();
  const rows = await db('tour_ab_assignments')
    .select('ab_test_id', 'variant')
    .whereIn('ab_test_id', testIds)
    .andWhereRaw('subject_hash = tourhub_ab_subject(ab_test_id, ?)', [userId]);
  return new Map(rows.map((r: { ab_test_id: string; variant: Variant }) => [r.ab_test_id, r.variant]));
}

/**
 * Stores the caller's first exposure to the test with `variant`, or keeps the one stored before: the
 * variant returned is the one that counts. Only the hash of test and user is written.
 */
export async function recordExposure(db: Knex, a: { orgId: string; testId: string; tourId: string; userId: string; variant: Variant }): Promise<Variant> {
  const inserted = await db.raw(
    `INSERT INTO tour_ab_assignments (organization_id, ab_test_id, tour_id, subject_hash, variant)
     VALUES (?, ?, ?, tourhub_ab_subject(?::uuid, ?::uuid), ?)
     ON CONFLICT (ab_test_id, subject_hash) DO NOTHING
     RETURNING variant`,
    [a.orgId, a.testId, a.tourId, a.testId, a.userId, a.variant],
  );
  if (inserted.rows.length > 0) return inserted.rows[0].variant;
  const stored = await findOwnAssignments(db, a.userId, [a.testId]);
  return stored.get(a.testId) ?? a.variant;
}

export interface VariantCounts {
  exposures: number;
  starts: number;
  completions: number;
}

/**
 * The analytics events the tour workflow records (keyed by progress and version). A client's own
 * events (POST /api/tours/analytics/events, keyed `c:{user}:{id}`) may carry any event_data, so they
 * never count as a run's start or completion in a test.
 */
export const SERVER_EVENT = "coalesce(event_key, '') NOT LIKE 'c:%'";

/**
 * Per variant: exposures (stored assignments), and the distinct people whose runs in this test recorded a
 * start and a completion: from the analytics events (which carry the run's test and variant and are never
 * rewritten, so a later restart under another test does not move them), and, for events retention has
 * since deleted, from the first start and completion it carried onto the assignment
 * (db/repositories/retention.ts). People are counted by the assignment's hash, so one found both ways
 * counts once.
 */
export async function countResults(db: Knex, testId: string): Promise<Record<Variant, VariantCounts>> {
  const out: Record<Variant, VariantCounts> = { a: { exposures: 0, starts: 0, completions: 0 }, b: { exposures: 0, starts: 0, completions: 0 } };
  const exposures = await db('tour_ab_assignments').select('variant').count({ n: '*' }).where({ ab_test_id: testId }).groupBy('variant');
  for (const r of exposures as { variant: Variant; n: string | number }[]) out[r.variant].exposures = Number(r.n);
  const outcomes = await db.raw(
    `WITH outcomes AS (
       SELECT event_data->>'ab_test_variant' AS variant, tourhub_ab_subject(?::uuid, user_id) AS subject, event_type::text AS type
         FROM tour_analytics_events
        WHERE (event_data->>'ab_test_id') = ? AND event_type IN ('tour_started', 'tour_completed') AND ${SERVER_EVENT}
       UNION
       SELECT btrim(variant), subject_hash::text, 'tour_started' FROM tour_ab_assignments WHERE ab_test_id = ? AND started_at IS NOT NULL
       UNION
       SELECT btrim(variant), subject_hash::text, 'tour_completed' FROM tour_ab_assignments WHERE ab_test_id = ? AND completed_at IS NOT NULL
     )
     SELECT variant,
            count(DISTINCT subject) FILTER (WHERE type = 'tour_started')::int AS starts,
            count(DISTINCT subject) FILTER (WHERE type = 'tour_completed')::int AS completions
       FROM outcomes
      GROUP BY 1`,
    [testId, testId, testId, testId],
  );
  for (const r of outcomes.rows as { variant: string; starts: number; completions: number }[]) {
    if (r.variant === 'a' || r.variant === 'b') Object.assign(out[r.variant], { starts: r.starts, completions: r.completions });
  }
  return out;
}
