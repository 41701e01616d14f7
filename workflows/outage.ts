/**
 * Waiting out a Postgres outage inside a workflow. The tour's and the replay's database reads are local
 * activities with a few quick retries (a blip costs nothing); past those, the workflow waits with
 * growing timers and tries again, saying why in its current details, until Postgres answers or the
 * configured bound (DB_OUTAGE_MAX_WAIT) runs out. A run never fails because Postgres restarted.
 */
import { ActivityFailure, ApplicationFailure, isCancellation, log, patched, sleep } from '@temporalio/workflow';

/**
 * Before this patch a failed load (the tour's definition and progress, a replay's call) failed the run
 * at once. Checked where the first failure is caught, so histories in which Postgres always answered
 * carry no marker and replay unchanged.
 */
export const WAIT_OUT_OUTAGES = 'wait-out-database-outages';

/** Used when the run's input does not say (runs started before the bound was configurable). */
export const DEFAULT_OUTAGE_MAX_WAIT_MS = 6 * 3_600_000;

const FIRST_WAIT_MS = 1_000;
const LONGEST_WAIT_MS = 30_000;

export interface OutageWait {
  /** How long to keep trying, from the first failure. */
  maxWaitMs: number;
  /** What the run is waiting for now (shown in its details), or undefined once Postgres answered. */
  waiting(reason: string | undefined): void;
}

/** A failure that trying again cannot fix: a refusal (non-retryable) from the activity itself. */
function isFinal(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure && cause.nonRetryable === true;
}

/** The driver's message, without the local activity's wrapping: "connect ECONNREFUSED 127.0.0.1:5432". */
export function outageReason(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Calls `load` until it answers. Cancellation and refusals pass through; so does the first failure of a
 * run still on the code before WAIT_OUT_OUTAGES, and any failure once `maxWaitMs` has passed.
 */
export async function untilDatabaseAnswers<T>(what: string, load: () => Promise<T>, wait: OutageWait): Promise<T> {
  const since = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await load();
      if (attempt > 1) wait.waiting(undefined);
      return value;
    } catch (err) {
      if (isCancellation(err) || isFinal(err)) throw err;
      if (attempt === 1 && !patched(WAIT_OUT_OUTAGES)) throw err;
      if (Date.now() - since >= wait.maxWaitMs) throw err;
      const delay = Math.min(LONGEST_WAIT_MS, FIRST_WAIT_MS * 2 ** (attempt - 1));
      const reason = `${what}: ${outageReason(err)} (waiting since ${new Date(since).toISOString()}, try ${attempt}, next in ${delay / 1000} s)`;
      log.warn('Postgres unavailable; waiting', { what, attempt, error: outageReason(err) });
      wait.waiting(reason);
      await sleep(delay);
    }
  }
}
