import type { VariantConfig } from '../domain/ab';
import type { ProgressStatus } from '../domain/tour-state';
import type { VersionRow } from '../db/repositories/tour-versions';
import { Lru } from './lru';

export interface KnownProgress {
  orgId: string;
  userId: string;
  tourId: string;
  /** The status this API process last saw; only `in_progress` is ever trusted without a read. */
  status: ProgressStatus;
}

/**
 * What the API remembers between requests to skip Postgres on the hot path. A progress id's
 * organisation, user and tour never change; its status is trusted only while `in_progress` (where
 * the workflow, not this cache, decides every move). A published version never changes either, nor do
 * a test's variants once it has left draft (the only time anyone is shown one), so both are kept until
 * the LRU drops them.
 */
export function createProgressCache(opts: { maxEntries?: number } = {}) {
  const progress = new Lru<string, KnownProgress>(opts.maxEntries ?? 50_000);
  const versions = new Lru<string, VersionRow>(Math.min(opts.maxEntries ?? 50_000, 5_000));
  const variants = new Lru<string, { a: VariantConfig; b: VariantConfig }>(Math.min(opts.maxEntries ?? 50_000, 5_000));
  return {
    progress: (id: string) => progress.get(id),
    rememberProgress: (id: string, known: KnownProgress) => progress.set(id, known),
    version: (tourId: string, version: number) => versions.get(`${tourId}:${version}`),
    rememberVersion: (row: VersionRow) => versions.set(`${row.tour_id}:${row.version}`, row),
    variants: (testId: string) => variants.get(testId),
    rememberVariants: (testId: string, v: { a: VariantConfig; b: VariantConfig }) => variants.set(testId, v),
  };
}

export type ProgressCache = ReturnType<typeof createProgressCache>;
