import type { Knex } from 'knex';
import type { Db } from '../db/knex';
import { findRunningTests, insertAbTest, updateAbTest, type AbTestRow } from '../db/repositories/ab-tests';
import {
  deleteTour,
  existingTourIds,
  findAdminTour,
  insertTour,
  listAdminTours,
  listWorkingSteps,
  prerequisiteGraph,
  replaceSteps,
  setLive,
  updateTourFields,
  type AdminTourRow,
  type StepFields,
  type TourFields,
} from '../db/repositories/tour-config';
import { findVersion, listVersions, publishVersion, workingCopyIsLive, type DefinitionSnapshot, type VersionSummary } from '../db/repositories/tour-versions';
import type { StepRow } from '../db/repositories/tours';
import { withTenant, type Tenant } from '../db/tenant';
import { unknownVariantSteps, type VariantConfig } from '../domain/ab';
import { checkCondition, CONDITION_OPERATORS } from '../domain/conditions';
import { notFound, ok, refuse, type Refusal, type Result } from './result';

/** What a configuration change (create, update) can be refused with, besides not_found. */
export const CHANGE_REFUSALS = [
  'duplicate_step_keys', 'invalid_condition', 'unknown_condition_operator', 'unknown_prerequisite', 'prerequisite_cycle', 'tour_key_taken',
  'tour_has_no_steps', 'ab_test_already_running', 'unknown_variant_step',
] as const;
export type ChangeRefusalCode = (typeof CHANGE_REFUSALS)[number];

export type ConfigRefusalCode =
  | 'not_found'
  | 'duplicate_step_keys'
  | 'invalid_condition'
  | 'unknown_condition_operator'
  | 'unknown_prerequisite'
  | 'prerequisite_cycle'
  | 'tour_key_taken'
  | 'tour_published'
  | 'tour_not_published'
  | 'tour_has_no_steps'
  | 'version_not_found'
  | 'ab_test_already_running'
  | 'unknown_variant_step';

/** An A/B test attached through the configuration (seed 000's `ab_test`): a new draft, or running at once. */
export interface AttachedTest {
  test_name?: string;
  description?: string | null;
  variant_a: VariantConfig;
  variant_b: VariantConfig;
  traffic_split: number;
  start?: boolean;
}

export interface ConfigChange {
  tour?: TourFields;
  /** The whole step list, in order: it replaces the tour's steps, or nothing changes. */
  steps?: StepFields[];
  abTest?: AttachedTest;
  /** Publish the result as the tour's next version, in the same transaction. */
  publish?: boolean;
}

export type TourStatus = 'draft' | 'published' | 'unpublished';

/** A tour's configuration, from its working copy (version null) or one published version. */
export interface TourConfig {
  tour: AdminTourRow;
  status: TourStatus;
  /** Null: the working copy; a number: that published version as it was frozen. */
  version: number | null;
  definition: DefinitionSnapshot & { inactivity_timeout_minutes: number | null };
  steps: StepRow[];
  hasUnpublishedChanges: boolean;
  abTest: AbTestRow | null;
}

/** Thrown inside a transaction to roll back everything it did, and answered as the refusal. */
class Refused extends Error {
  constructor(readonly refusal: Refusal<ConfigRefusalCode>) {
    super(refusal.message);
  }
}

const fail = (code: ConfigRefusalCode, message: string, details: Record<string, unknown> = {}): never => {
  throw new Refused(refuse(code, message, details).refusal);
};

const statusOf = (t: AdminTourRow): TourStatus => (t.is_active ? 'published' : t.published_version === null ? 'draft' : 'unpublished');

/** Every rule of the change, checked before anything is written. An unknown operator is named on its own. */
function checkRules(change: ConfigChange): void {
  const rules: [string, unknown][] = [];
  if (change.tour?.show_conditions !== undefined) rules.push(['targeting.show_conditions', change.tour.show_conditions]);
  if (change.tour?.skip_conditions !== undefined) rules.push(['targeting.skip_conditions', change.tour.skip_conditions]);
  change.steps?.forEach((s, i) => {
    if (s.show_conditions !== undefined) rules.push([`steps[${i}].show_conditions`, s.show_conditions]);
    if (s.skip_conditions !== undefined) rules.push([`steps[${i}].skip_conditions`, s.skip_conditions]);
  });
  const problems = rules.flatMap(([where, rule]) => checkCondition(rule).map((p) => ({ ...p, path: p.path.replace(/^\$/, where) })));
  const unknown = problems.find((p) => p.unknownOperator !== undefined);
  if (unknown) {
    fail('unknown_condition_operator', `Unknown rule operator ${JSON.stringify(unknown.unknownOperator)} at ${unknown.path}`, {
      operator: unknown.unknownOperator,
      path: unknown.path,
      known_operators: CONDITION_OPERATORS,
    });
  }
  if (problems.length > 0) {
    fail('invalid_condition', `A rule is not in the rule language: ${problems[0]!.path}: ${problems[0]!.message}`, { problems: problems.map(({ path, message }) => ({ path, message })) });
  }
}

function checkSteps(steps: StepFields[] | undefined): void {
  if (!steps) return;
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const s of steps) (seen.has(s.step_key) ? duplicates : seen).add(s.step_key);
  if (duplicates.size > 0) fail('duplicate_step_keys', `Step keys must be unique within a tour: ${[...duplicates].join(', ')} repeat`, { duplicates: [...duplicates] });
}

/** The prerequisites are other tours of this organisation, and waiting on them never comes back round. */
async function checkPrerequisites(trx: Knex, tourId: string | null, prerequisites: string[] | undefined): Promise<void> {
  if (!prerequisites) return;
  const existing = await existingTourIds(trx, prerequisites);
  const bad = prerequisites.filter((id) => id === tourId || !existing.has(id));
  if (bad.length > 0) fail('unknown_prerequisite', `Prerequisites must be other tours of this organisation: ${bad.join(', ')}`, { tour_ids: bad });
  if (!tourId) return;
  const graph = await prerequisiteGraph(trx);
  graph.set(tourId, prerequisites);
  const path: string[] = [];
  const onPath = new Set<string>();
  const done = new Set<string>();
  const visit = (id: string): string[] | null => {
    if (onPath.has(id)) return [...path.slice(path.indexOf(id)), id];
    if (done.has(id)) return null;
    onPath.add(id);
    path.push(id);
    for (const next of graph.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    onPath.delete(id);
    done.add(id);
    return null;
  };
  const cycle = visit(tourId);
  if (cycle) fail('prerequisite_cycle', `These tours would wait on each other: ${cycle.join(' -> ')}`, { cycle });
}

/** The configuration's A/B test: a new draft test on the tour's steps, or a running one if asked (and none is). */
async function attachTest(trx: Knex, auth: Tenant, tourId: string, test: AttachedTest, stepKeys: string[]): Promise<void> {
  const unknown = [...new Set([...unknownVariantSteps(test.variant_a, stepKeys), ...unknownVariantSteps(test.variant_b, stepKeys)])];
  if (unknown.length > 0) fail('unknown_variant_step', `The variants name steps the tour does not have: ${unknown.join(', ')}`, { step_keys: unknown });
  if (test.start) {
    const running = (await findRunningTests(trx, [tourId])).get(tourId);
    if (running) fail('ab_test_already_running', 'This tour already has a running A/B test: pause or complete it first', { running_test_id: running.id });
  }
  const row = await insertAbTest(trx, auth.orgId, tourId, {
    test_name: test.test_name ?? 'Configuration test',
    description: test.description ?? null,
    variant_a: test.variant_a,
    variant_b: test.variant_b,
    traffic_split: test.traffic_split,
  });
  if (test.start) await updateAbTest(trx, row.id, { status: 'running', start_date: trx.fn.now() });
}

const isUniqueViolation = (err: unknown, constraint: string) =>
  (err as { code?: string; constraint?: string }).code === '23505' && (err as { constraint?: string }).constraint === constraint;

/**
 * Tours as admins author them: a working copy (tour_definitions, tour_steps) changed through the
 * configuration API, and published versions frozen from it. Every change is checked whole before
 * anything is written and runs in one transaction: a refused change leaves the tour as it was.
 */
export function createTourConfigService(deps: { db: Db }) {
  const { db } = deps;

  /** Runs `fn` as the admin; a refusal thrown inside rolls the transaction back and is returned. */
  // `C` is what the caller's checks can refuse with (the compiler cannot follow fail()'s throws).
  const atomically = async <T, C extends ConfigRefusalCode>(auth: Tenant, fn: (trx: Knex.Transaction) => Promise<Result<T, ConfigRefusalCode>>): Promise<Result<T, C>> => {
    try {
      return (await withTenant(db, auth, fn)) as Result<T, C>;
    } catch (err) {
      if (err instanceof Refused) return { ok: false, refusal: err.refusal } as Result<T, C>;
      if (isUniqueViolation(err, 'tour_definitions_organization_id_tour_key_key')) return refuse('tour_key_taken', 'Another tour of this organisation has this key') as Result<T, C>;
      if (isUniqueViolation(err, 'uniq_running_ab_test_per_tour')) return refuse('ab_test_already_running', 'This tour already has a running A/B test') as Result<T, C>;
      throw err;
    }
  };

  const configOf = async (trx: Knex, tourId: string, version?: number): Promise<Result<TourConfig, 'not_found' | 'version_not_found'>> => {
    const tour = await findAdminTour(trx, tourId);
    if (!tour) return notFound('Tour', { tour_id: tourId });
    const test = (await findRunningTests(trx, [tourId])).get(tourId) ?? null;
    const base = { tour, status: statusOf(tour), abTest: test };
    if (version !== undefined) {
      const row = await findVersion(trx, tourId, version);
      if (!row) {
        const versions = (await listVersions(trx, tourId)).map((v) => v.version);
        return refuse('version_not_found', `Tour has no published version ${version}`, { version, versions });
      }
      return ok({ ...base, version, definition: { ...row.definition, inactivity_timeout_minutes: tour.inactivity_timeout_minutes }, steps: row.steps, hasUnpublishedChanges: false });
    }
    const definition = {
      tour_key: tour.tour_key,
      name: tour.name,
      description: tour.description,
      tour_type: tour.tour_type,
      target_audience: tour.target_audience,
      wedding_phase: tour.wedding_phase,
      estimated_duration_minutes: tour.estimated_duration_minutes,
      prerequisite_tours: tour.prerequisite_tours,
      show_conditions: tour.show_conditions,
      skip_conditions: tour.skip_conditions,
      inactivity_timeout_minutes: tour.inactivity_timeout_minutes,
    };
    const live = tour.published_version !== null && (await workingCopyIsLive(trx, tourId));
    return ok({ ...base, version: null, definition, steps: await listWorkingSteps(trx, tourId), hasUnpublishedChanges: !live });
  };

  const publishIn = async (trx: Knex, auth: Tenant, tourId: string) => {
    const steps = await listWorkingSteps(trx, tourId);
    if (steps.length === 0) fail('tour_has_no_steps', 'A tour needs at least one step to be published');
    await publishVersion(trx, tourId, auth.userId);
  };

  const apply = async (trx: Knex, auth: Tenant, tourId: string, change: ConfigChange) => {
    if (change.tour) await updateTourFields(trx, tourId, change.tour);
    if (change.steps) await replaceSteps(trx, auth.orgId, tourId, change.steps);
    if (change.abTest) await attachTest(trx, auth, tourId, change.abTest, (await listWorkingSteps(trx, tourId)).map((s) => s.step_key));
    if (change.publish) await publishIn(trx, auth, tourId);
  };

  return {
    list(auth: Tenant, page: { limit: number; after?: string }): Promise<AdminTourRow[]> {
      return withTenant(db, auth, (trx) => listAdminTours(trx, page));
    },

    get(auth: Tenant, tourId: string, version?: number) {
      return withTenant(db, auth, (trx) => configOf(trx, tourId, version));
    },

    versions(auth: Tenant, tourId: string): Promise<Result<VersionSummary[], 'not_found'>> {
      return withTenant(db, auth, async (trx) => ((await findAdminTour(trx, tourId)) ? ok(await listVersions(trx, tourId)) : notFound('Tour', { tour_id: tourId })));
    },

    /** A new tour, a draft until published (`publish: true` publishes it as version 1 at once). */
    create(auth: Tenant, change: ConfigChange & { tour: TourFields & { tour_key: string; name: string } }) {
      return atomically<TourConfig, ChangeRefusalCode>(auth, async (trx) => {
        checkSteps(change.steps);
        checkRules(change);
        await checkPrerequisites(trx, null, change.tour.prerequisite_tours);
        const tourId = await insertTour(trx, auth.orgId, change.tour);
        await apply(trx, auth, tourId, { ...change, tour: undefined });
        return (await configOf(trx, tourId)) as Result<TourConfig, ConfigRefusalCode>;
      });
    },

    /** Changes the working copy (and publishes it, if asked): seed 000's PUT /api/tours/config/:id. */
    update(auth: Tenant, tourId: string, change: ConfigChange) {
      return atomically<TourConfig, 'not_found' | ChangeRefusalCode>(auth, async (trx) => {
        if (!(await findAdminTour(trx, tourId))) return notFound('Tour', { tour_id: tourId });
        checkSteps(change.steps);
        checkRules(change);
        await checkPrerequisites(trx, tourId, change.tour?.prerequisite_tours);
        await apply(trx, auth, tourId, change);
        return (await configOf(trx, tourId)) as Result<TourConfig, ConfigRefusalCode>;
      });
    },

    /** Freezes the working copy as the next version and makes it live; new starts take it. */
    publish(auth: Tenant, tourId: string) {
      return atomically<TourConfig, 'not_found' | 'tour_has_no_steps'>(auth, async (trx) => {
        if (!(await findAdminTour(trx, tourId))) return notFound('Tour', { tour_id: tourId });
        await publishIn(trx, auth, tourId);
        return (await configOf(trx, tourId)) as Result<TourConfig, ConfigRefusalCode>;
      });
    },

    /** Takes the tour out of the listing and refuses new starts; runs under way finish on their version. */
    unpublish(auth: Tenant, tourId: string) {
      return atomically<TourConfig, 'not_found' | 'tour_not_published'>(auth, async (trx) => {
        const tour = await findAdminTour(trx, tourId);
        if (!tour) return notFound('Tour', { tour_id: tourId });
        if (!tour.is_active) fail('tour_not_published', 'This tour is not live', { status: statusOf(tour) });
        await setLive(trx, tourId, false);
        return (await configOf(trx, tourId)) as Result<TourConfig, ConfigRefusalCode>;
      });
    },

    /** Deletes an unpublished tour with its versions, progress, analytics and tests. */
    remove(auth: Tenant, tourId: string) {
      return atomically<{ deleted: boolean }, 'not_found' | 'tour_published'>(auth, async (trx) => {
        const tour = await findAdminTour(trx, tourId);
        if (!tour) return notFound('Tour', { tour_id: tourId });
        if (tour.is_active) fail('tour_published', 'Unpublish the tour before deleting it');
        await deleteTour(trx, tourId);
        return ok({ deleted: true });
      });
    },
  };
}

export type TourConfigService = ReturnType<typeof createTourConfigService>;
