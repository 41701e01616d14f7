import { Router } from 'express';
import type { Db } from '../../db/knex';
import { listOutboundEvents } from '../../db/repositories/outbound-events';
import { withTenant } from '../../db/tenant';
import { requireAdmin } from '../middleware/auth';
import { parse } from '../middleware/errors';
import { listNotificationsQuery } from '../schemas/notifications';

/** What the organisation's admins should hear about (integration.degraded, integration.recovered), newest first. */
export function createNotificationsRouter(deps: { db: Db }): Router {
  const router = Router();
  router.use(requireAdmin());
  router.get('/', async (req, res) => {
    const { limit } = parse(listNotificationsQuery, req.query, 'query');
    const rows = await withTenant(deps.db, req.auth!, (trx) => listOutboundEvents(trx, limit));
    res.json({
      notifications: rows.map((r) => ({ id: r.id, type: r.event_type, subject_id: r.subject_id, payload: r.payload, created_at: r.created_at })),
      total: rows.length,
    });
  });
  return router;
}
