import { Router } from 'express';
import type { Db } from '../../db/knex';
import { ApiError } from '../middleware/errors';
import type { TourWorkflows } from '../temporal';

const CHECK_TIMEOUT_MS = 2000;

async function check(fn: () => Promise<unknown>): Promise<'ok' | string> {
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

export function createHealthRouter(deps: { db: Db; tours: TourWorkflows }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [postgres, temporal] = await Promise.all([check(() => deps.db.raw('select 1')), check(() => deps.tours.ping())]);
    const checks = { postgres, temporal };
    if (postgres !== 'ok' || temporal !== 'ok') {
      throw new ApiError(503, 'not_ready', 'A dependency is unreachable', { checks });
    }
    res.json({ status: 'ready', checks });
  });
  return router;
}
