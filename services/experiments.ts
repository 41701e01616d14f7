import type { Db } from '../db/knex';
import { countResults, findAbTest, findRunningTests, insertAbTest, listAbTests, updateAbTest, type AbTestFields, type AbTestRow } from '../db/repositories/ab-tests';
import { findAdminTour, listWorkingSteps } from '../db/repositories/tour-config';
import { withTenant, type Tenant } from '../db/tenant';
import { allowedTransitions, canTransition, unknownVariantSteps, type AbTestStatus } from '../domain/ab';
import { analyzeExperiment, type ExperimentResults } from '../domain/ab-stats';
import { notFound, ok, refuse, type Result } from './result';

export type ExperimentRefusalCode = 'not_found' | 'unknown_variant_step' | 'ab_test_already_running' | 'invalid_ab_test_transition' | 'ab_test_not_draft';

/** What only a draft may change: the design the results are read against. */
const DESIGN_FIELDS = ['variant_a', 'variant_b', 'primary_metric', 'minimum_sample_size', 'statistical_significance', 'minimum_detectable_effect'] as const;

const isRunningConflict = (err: unknown) =>
  (err as { code?: string; constraint?: string }).code === '23505' && (err as { constraint?: string }).constraint === 'uniq_running_ab_test_per_tour';

/**
 * A/B tests of tours (admins): seed 000's lifecycle (draft, running, paused, completed, archived), one
 * running test per tour, and the results with the checks an experiment platform makes before trusting
 * them (domain/ab-stats.ts).
 */
export function createExperimentService(deps: { db: Db; now?: () => Date }) {
  const { db } = deps;

  const checkVariants = async (trx: Parameters<typeof listWorkingSteps>[0], tourId: string, fields: AbTestFields) => {
    const keys = (await listWorkingSteps(trx, tourId)).map((s) => s.step_key);
    const unknown = [...new Set([...unknownVariantSteps(fields.variant_a ?? {}, keys), ...unknownVariantSteps(fields.variant_b ?? {}, keys)])];
    return unknown.length > 0 ? refuse('unknown_variant_step', `The variants name steps the tour does not have: ${unknown.join(', ')}`, { step_keys: unknown }) : null;
  };

  return {
    /** A new test of the tour, as a draft: nobody is assigned until it runs. */
    async create(auth: Tenant, tourId: string, fields: AbTestFields & { test_name: string }): Promise<Result<AbTestRow, 'not_found' | 'unknown_variant_step'>> {
      return withTenant(db, auth, async (trx) => {
        if (!(await findAdminTour(trx, tourId))) return notFound('Tour', { tour_id: tourId });
        const bad = await checkVariants(trx, tourId, fields);
        if (bad) return bad;
        return ok(await insertAbTest(trx, auth.orgId, tourId, fields));
      });
    },

    list(auth: Tenant, filter: { tourId?: string; status?: AbTestStatus }): Promise<AbTestRow[]> {
      return withTenant(db, auth, (trx) => listAbTests(trx, filter));
    },

    async get(auth: Tenant, id: string): Promise<Result<AbTestRow, 'not_found'>> {
      const row = await withTenant(db, auth, (trx) => findAbTest(trx, id));
      return row ? ok(row) : notFound('A/B test', { ab_test_id: id });
    },

    /**
     * Changes a test. Its name, description and traffic split can change while it runs (people already
     * assigned keep their variant: the first assignment is stored); its variants and metric only in draft.
     */
    async update(auth: Tenant, id: string, fields: AbTestFields): Promise<Result<AbTestRow, 'not_found' | 'ab_test_not_draft' | 'unknown_variant_step'>> {
      return withTenant(db, auth, async (trx) => {
        const test = await findAbTest(trx, id);
        if (!test) return notFound('A/B test', { ab_test_id: id });
        const design = DESIGN_FIELDS.filter((f) => fields[f] !== undefined);
        if (test.status === 'completed' || test.status === 'archived') {
          return refuse('ab_test_not_draft', `This test is ${test.status}: it no longer changes`, { status: test.status });
        }
        if (design.length > 0 && test.status !== 'draft') {
          return refuse('ab_test_not_draft', `Only a draft test can change ${design.join(', ')}: its results would mix two designs`, { status: test.status, fields: design });
        }
        const bad = await checkVariants(trx, test.tour_id, fields);
        if (bad) return bad;
        return ok((await updateAbTest(trx, id, fields))!);
      });
    },

    /** Moves the test along its lifecycle; only one test of a tour runs at a time. */
    async setStatus(auth: Tenant, id: string, to: AbTestStatus): Promise<Result<AbTestRow, 'not_found' | 'invalid_ab_test_transition' | 'ab_test_already_running'>> {
      try {
        return await withTenant(db, auth, async (trx) => {
          const test = await findAbTest(trx, id);
          if (!test) return notFound('A/B test', { ab_test_id: id });
          if (!canTransition(test.status, to)) {
            return refuse('invalid_ab_test_transition', `A ${test.status} test cannot become ${to}`, { status: test.status, requested: to, allowed: allowedTransitions(test.status) });
          }
          if (to === 'running') {
            const running = (await findRunningTests(trx, [test.tour_id])).get(test.tour_id);
            if (running) {
              return refuse('ab_test_already_running', 'This tour already has a running A/B test: pause or complete it first', { running_test_id: running.id });
            }
          }
          const now = deps.now?.() ?? new Date();
          return ok(
            (await updateAbTest(trx, id, {
              status: to,
              ...(to === 'running' && !test.start_date ? { start_date: now } : {}),
              ...(to === 'completed' ? { end_date: now } : {}),
            }))!,
          );
        });
      } catch (err) {
        // Two starts at once: the unique index lets one through.
        if (isRunningConflict(err)) return refuse('ab_test_already_running', 'This tour already has a running A/B test: pause or complete it first');
        throw err;
      }
    },

    /** The test's results per variant, with the statistics and a recommendation (domain/ab-stats.ts). */
    async results(auth: Tenant, id: string): Promise<Result<{ test: AbTestRow; results: ExperimentResults }, 'not_found'>> {
      return withTenant(db, auth, async (trx) => {
        const test = await findAbTest(trx, id);
        if (!test) return notFound('A/B test', { ab_test_id: id });
        const counts = await countResults(trx, id);
        return ok({
          test,
          results: analyzeExperiment({
            a: counts.a,
            b: counts.b,
            trafficSplit: test.traffic_split,
            confidence: test.statistical_significance,
            minimumDetectableEffect: test.minimum_detectable_effect,
            minimumSampleSize: test.minimum_sample_size,
            metric: test.primary_metric,
          }),
        });
      });
    },
  };
}

export type ExperimentService = ReturnType<typeof createExperimentService>;
