import { ping, type Db } from '../db/knex';
import { ok, refuse, type Result } from './result';
import type { TourWorkflows } from './temporal';

const CHECK_TIMEOUT_MS = 2000;

export type CheckOutcome = 'ok' | string;

async function check(fn: () => Promise<unknown>): Promise<CheckOutcome> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return (err as Error).message || 'unreachable';
  } finally {
    clearTimeout(timer);
  }
}

/** Whether Postgres and Temporal answer within two seconds each; refused with each check's outcome when one does not. */
export async function readiness(deps: { db: Db; tours: TourWorkflows }): Promise<Result<{ postgres: 'ok'; temporal: 'ok' }, 'not_ready'>> {
  const [postgres, temporal] = await Promise.all([check(() => ping(deps.db)), check(() => deps.tours.ping())]);
  const checks = { postgres, temporal };
  if (postgres !== 'ok' || temporal !== 'ok') return refuse('not_ready', 'A dependency is unreachable', { checks });
  return ok({ postgres, temporal });
}
