import type { Knex } from 'knex';
import { findAbTest } from '../db/repositories/ab-tests';
import { findVersion, type VersionRow } from '../db/repositories/tour-versions';
import type { StepRow } from '../db/repositories/tours';
import { mergeVariant, type Variant, type VariantConfig } from '../domain/ab';
import type { RunExperiment, TourState } from '../domain/tour-state';
import type { ProgressCache } from './progress-cache';

/**
 * Where a read runs: inside a transaction already open (`(fn) => fn(trx)`), or in one opened only when
 * the cache misses, so a request answered from memory opens no transaction at all.
 */
export type Scope = <T>(fn: (trx: Knex) => Promise<T>) => Promise<T>;

/** What a person is shown of a tour: one version's definition, the steps of their run, their variant. */
export interface RunContent {
  version: VersionRow;
  steps: StepRow[];
  variant: Variant | null;
}

/**
 * The texts a run shows, from the version it started on, the steps it kept and the variant it was given,
 * whatever happened to the tour since. Versions and variants are immutable once anyone can see them,
 * so after the first read they come from the cache: the progress PUT asks Postgres nothing for them.
 */
export function createTourContent(cache: ProgressCache) {
  const version = async (scope: Scope, tourId: string, v: number): Promise<VersionRow | undefined> => {
    const hit = cache.version(tourId, v);
    if (hit) return hit;
    const row = await scope((trx) => findVersion(trx, tourId, v));
    if (row) cache.rememberVersion(row);
    return row;
  };

  const variantConfig = async (scope: Scope, experiment: RunExperiment | null | undefined): Promise<VariantConfig | null> => {
    if (!experiment) return null;
    let known = cache.variants(experiment.testId);
    if (!known) {
      const test = await scope((trx) => findAbTest(trx, experiment.testId));
      if (!test) return null;
      known = { a: test.variant_a, b: test.variant_b };
      if (test.status !== 'draft') cache.rememberVariants(test.id, known);
    }
    return known[experiment.variant];
  };

  /** The steps of `version` a run keeps (all of them for null), in the version's order, with its variant merged. */
  const compose = (row: VersionRow, stepKeys: readonly string[] | null | undefined, config: VariantConfig | null): StepRow[] => {
    const keys = stepKeys ? new Set(stepKeys) : null;
    const kept = keys ? row.steps.filter((s) => keys.has(s.step_key)) : row.steps;
    return mergeVariant(kept, config);
  };

  return {
    version,
    variantConfig,
    compose,
    /**
     * The content of a run as a state (or a stored row) describes it. A run from before versions names
     * none: the tour's live version stands in (`liveVersion`, read when needed).
     */
    async ofRun(scope: Scope, run: Pick<TourState, 'tourId' | 'tourVersion' | 'stepKeys' | 'abTest'>, liveVersion: () => Promise<number | null>): Promise<RunContent | undefined> {
      const v = run.tourVersion ?? (await liveVersion());
      if (v === null) return undefined;
      const row = await version(scope, run.tourId, v);
      if (!row) return undefined;
      const config = await variantConfig(scope, run.abTest);
      return { version: row, steps: compose(row, run.stepKeys, config), variant: run.abTest?.variant ?? null };
    },
  };
}

export type TourContent = ReturnType<typeof createTourContent>;
