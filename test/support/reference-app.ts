import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../api/app';
import { createTokenVerifier } from '../../api/middleware/auth';
import { createOutboundGuard } from '../../connectors/outbound';
import { registry } from '../../connectors/registry';
import { createDb, type Db } from '../../db/knex';
import type { SyncControl } from '../../services/sync';
import type { DeliveryReplays, TourWorkflows } from '../../services/temporal';
import { TEST_JWT_SECRET } from './constants';
import { testSecretBox } from './stack';

const unused = (what: string) => () => {
  throw new Error(`${what} is not available in this app: it serves the reference and its routes, nothing behind them`);
};

/**
 * The real app with nothing behind it (no Postgres, no Temporal): enough to walk its routes and to serve
 * the OpenAPI document and its page. Any route that would reach a backend fails loudly.
 */
export function referenceApp(): { app: Express; close(): Promise<void> } {
  // Never queried: knex connects on the first query, and nothing here makes one.
  const db: Db = createDb('postgres://reference-app.invalid:1/none', { poolMax: 1 });
  const tours: TourWorkflows = { start: unused('Temporal'), advance: unused('Temporal'), ping: unused('Temporal') };
  const replays: DeliveryReplays = { replay: unused('Temporal') };
  const sync: SyncControl = { request: unused('Temporal'), ensureSchedule: unused('Temporal'), removeSchedule: unused('Temporal'), listSchedules: unused('Temporal') };
  const outbound = createOutboundGuard();
  const app = createApp({
    db,
    tours,
    replays,
    sync,
    verifier: createTokenVerifier({ secret: TEST_JWT_SECRET, issuer: 'tourhub', audience: 'tourhub-api' }),
    logger: pino({ level: 'silent' }),
    integrations: { box: testSecretBox(), registry, oauthClients: {}, publicUrl: 'http://tourhub.test', connectorTimeoutMs: 2000, outbound },
  });
  return { app, close: async () => void (await Promise.all([db.destroy(), outbound.close()])) };
}
