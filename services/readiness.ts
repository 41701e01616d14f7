import type { Logger } from 'pino';
import { ping, type Db } from '../db/knex';
import { ok, refuse, type Result } from './result';
import type { TourWorkflows } from './temporal';

const CHECK_TIMEOUT_MS = 2000;

/**
 * Why a check failed, as a stable code: a probe is public, and a driver's message names hosts, users and
 * databases (`password authentication failed for user "tourhub"`). The message goes to the log instead.
 */
export type CheckFailure = 'timeout' | 'unreachable' | 'error';

class CheckTimeout extends Error {}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE']);
const GRPC_UNAVAILABLE = 14;

export function classifyCheckFailure(err: unknown): CheckFailure {
  if (err instanceof CheckTimeout) return 'timeout';
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return 'unreachable';
    if (code === GRPC_UNAVAILABLE) return 'unreachable';
    // knex gives up waiting for a pooled connection when none can be made.
    if ((e as Error).name === 'KnexTimeoutError') return 'unreachable';
  }
  return 'error';
}

async function check(name: string, fn: () => Promise<unknown>, logger: Logger | undefined): Promise<'ok' | CheckFailure> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new CheckTimeout(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (err) {
    const code = classifyCheckFailure(err);
    logger?.warn({ check: name, code, err }, 'readiness check failed');
    return code;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether Postgres and Temporal answer within two seconds each; refused with `ok` or `failed` per check
 * and a stable code for each failure (`reasons`), never a driver's message.
 */
export async function readiness(deps: { db: Db; tours: TourWorkflows; logger?: Logger }): Promise<Result<{ postgres: 'ok'; temporal: 'ok' }, 'not_ready'>> {
  const [postgres, temporal] = await Promise.all([check('postgres', () => ping(deps.db), deps.logger), check('temporal', () => deps.tours.ping(), deps.logger)]);
  if (postgres === 'ok' && temporal === 'ok') return ok({ postgres, temporal });
  const outcomes = { postgres, temporal };
  const checks = Object.fromEntries(Object.entries(outcomes).map(([name, outcome]) => [name, outcome === 'ok' ? 'ok' : 'failed']));
  const reasons = Object.fromEntries(Object.entries(outcomes).filter(([, outcome]) => outcome !== 'ok'));
  return refuse('not_ready', 'A dependency does not answer', { checks, reasons });
}
