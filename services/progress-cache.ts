import type { StepRow } from '../db/repositories/tours';
import type { ProgressStatus } from '../domain/tour-state';
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
 * the workflow, not this cache, decides every move). Steps are kept for `stepsTtlMs`: the workflow
 * froze the tour's shape when it started, so this only affects which step texts a response shows.
 */
export function createProgressCache(opts: { maxEntries?: number; stepsTtlMs?: number; now?: () => number } = {}) {
  const progress = new Lru<string, KnownProgress>(opts.maxEntries ?? 50_000);
  const steps = new Lru<string, { rows: StepRow[]; until: number }>(opts.maxEntries ?? 50_000);
  const ttl = opts.stepsTtlMs ?? 30_000;
  const now = opts.now ?? Date.now;
  return {
    progress: (id: string) => progress.get(id),
    rememberProgress: (id: string, known: KnownProgress) => progress.set(id, known),
    steps(tourId: string): StepRow[] | undefined {
      const hit = steps.get(tourId);
      return hit && hit.until > now() ? hit.rows : undefined;
    },
    rememberSteps: (tourId: string, rows: StepRow[]) => steps.set(tourId, { rows, until: now() + ttl }),
  };
}

export type ProgressCache = ReturnType<typeof createProgressCache>;
