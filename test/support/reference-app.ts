import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../api/app';
import { createTokenVerifier } from '../../api/middleware/auth';
import { createOutboundGuard } from '../../connectors/outbound';
import { registry } from '../../connectors/registry';
import { createDb, type Db } from '../../db/knex';
import { createProgressFeed } from '../../services/progress-feed';
import type { SyncControl } from '../../services/sync';
import type { DeliveryReplays, TourWorkflows, UserWorkflows } from '../../services/temporal';
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
  const tours: TourWorkflows = { start: unused('Temporal'), advance: unused('Temporal'), feedback: unused('Temporal'), ping: unused('Temporal') };
  const replays: DeliveryReplays = { replay: unused('Temporal') };
  const sync: SyncControl = { request: unused('Temporal'), ensureSchedule: unused('Temporal'), removeSchedule: unused('Temporal'), listSchedules: unused('Temporal') };
  const outbound = createOutboundGuard();
  const logger = pino({ level: 'silent' });
  // Connects on the first stream only, so never here.
  const feed = createProgressFeed({ connectionString: 'postgres://reference-app.invalid:1/none', logger });
  const userWorkflows: UserWorkflows = { erase: unused('Temporal') };
  const app = createApp({
    db,
    tours,
    replays,
    rateLimits: { perMinute: { progress: 10, start: 5 } },
    sync,
    verifier: createTokenVerifier({ secret: TEST_JWT_SECRET, issuer: 'tourhub', audience: 'tourhub-api' }),
    logger,
    integrations: { box: testSecretBox(), registry, oauthClients: {}, publicUrl: 'http://tourhub.test', connectorTimeoutMs: 2000, outbound },
    realtime: { feed, heartbeatMs: 15_000 },
    userWorkflows,
    analytics: { beaconTokenTtlSeconds: 3600, pseudonymKey: new Uint8Array(32) },
  });
  return { app, close: async () => void (await Promise.all([db.destroy(), outbound.close(), feed.close()])) };
}
