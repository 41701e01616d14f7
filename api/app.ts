import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Db } from '../db/knex';
import { authenticate, type TokenVerifier } from './middleware/auth';
import { errorHandler, unknownRoute } from './middleware/errors';
import { createHealthRouter } from './routes/health';
import { createIntegrationsRouter, type IntegrationsRouterDeps } from './routes/integrations';
import { createNotificationsRouter } from './routes/notifications';
import { createToursRouter } from './routes/tours';
import { createProgressCache } from './progress-cache';
import type { DeliveryReplays, TourWorkflows } from './temporal';

export interface AppDeps {
  /** Non-owner connection (RLS applies). */
  db: Db;
  tours: TourWorkflows;
  verifier: TokenVerifier;
  logger: Logger;
  /** Starts replays of dead deliveries: the integrations API's replay routes. */
  replays: DeliveryReplays;
  integrations: Omit<IntegrationsRouterDeps, 'db' | 'replays'>;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(
    pinoHttp({
      logger: deps.logger,
      autoLogging: { ignore: (req) => req.url === '/healthz' },
      // Method, path and status only: headers carry bearer tokens, and bodies carry people's feedback.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use(createHealthRouter(deps));
  app.use(express.json({ limit: '64kb', strict: true }));
  const integrations = createIntegrationsRouter({ ...deps.integrations, db: deps.db, replays: deps.replays });
  // OAuth providers redirect browsers here without our bearer token; the signed state authenticates.
  app.use('/api/integrations', integrations.oauthCallback);
  app.use('/api', authenticate(deps.verifier));
  app.use('/api/tours', createToursRouter({ ...deps, cache: createProgressCache() }));
  app.use('/api/integrations', integrations.router);
  app.use('/api/notifications', createNotificationsRouter(deps));
  app.use(unknownRoute);
  app.use(errorHandler(deps.logger));
  return app;
}
