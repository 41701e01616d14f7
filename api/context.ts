import type { Logger } from 'pino';
import type { OAuthClient } from '../connectors/oauth';
import type { OutboundGuard } from '../connectors/outbound';
import type { Registry } from '../connectors/registry';
import type { Db } from '../db/knex';
import { listDeliveries, type DeliveryListFilter } from '../db/repositories/deliveries';
import { listOutboundEvents } from '../db/repositories/outbound-events';
import type { SecretBox } from '../db/secrets';
import { withTenant, type Tenant } from '../db/tenant';
import { integrationHealth } from '../services/integration-health';
import { createIntegrationService } from '../services/integrations';
import { conflicts, integrationLogs, resolve, resyncStatus, startResync, withSyncSchedules, type SyncControl } from '../services/sync';
import type { ConflictFilter } from '../db/repositories/conflicts';
import type { LogFilter } from '../db/repositories/logs';
import type { ResolutionChoice, SyncValue } from '../domain/conflict';
import { createOAuthService } from '../services/oauth';
import { createProgressCache } from '../services/progress-cache';
import { readiness } from '../services/readiness';
import { replayDelivery, replayIntegration, type ReplayDeps } from '../services/replays';
import type { DeliveryReplays, TourWorkflows } from '../services/temporal';
import { createTourService } from '../services/tours';
import type { TokenVerifier } from './middleware/auth';
import type { OpenApiDocument } from './openapi';

export interface AppDeps {
  /** Non-owner connection (RLS applies). */
  db: Db;
  tours: TourWorkflows;
  verifier: TokenVerifier;
  logger: Logger;
  /** Starts replays of dead deliveries: the integrations API's replay routes. */
  replays: DeliveryReplays;
  /** Two-way sync's schedules and requests (services/sync.ts). */
  sync: SyncControl;
  integrations: {
    box: SecretBox;
    registry: Registry;
    /** Configured OAuth clients by provider id; a provider missing here cannot be connected. */
    oauthClients: Partial<Record<string, OAuthClient>>;
    /** This API's address as browsers reach it: OAuth callbacks come back to it. */
    publicUrl: string;
    connectorTimeoutMs: number;
    /** The deployment's outbound rules: account addresses are checked against them when saved. */
    outbound: OutboundGuard;
    /** Connection tests one organisation may run at once (INTEGRATION_TEST_CONCURRENCY); default 2. */
    connectionTestsPerOrg?: number;
  };
}

/** What endpoint handlers call: the services, built once per app from its dependencies. */
export function createApiContext(deps: AppDeps, openapi: () => OpenApiDocument) {
  const { db } = deps;
  const scoped = (auth: Tenant): ReplayDeps => ({ scope: (fn) => withTenant(db, auth, fn), replays: deps.replays });
  return {
    tours: createTourService({ db, workflows: deps.tours, logger: deps.logger, cache: createProgressCache() }),
    integrations: withSyncSchedules(createIntegrationService({ db, ...deps.integrations }), { sync: deps.sync, registry: deps.integrations.registry, logger: deps.logger }),
    oauth: createOAuthService({ db, ...deps.integrations }),
    replays: {
      delivery: (auth: Tenant, deliveryId: string) => replayDelivery(scoped(auth), deliveryId),
      integration: (auth: Tenant, integrationId: string) => replayIntegration(scoped(auth), integrationId),
    },
    integrationHealth: (auth: Tenant) => integrationHealth(db, auth),
    /** Newest first, keyset-paginated; RLS keeps them to the organisation's admins. */
    deliveries: (auth: Tenant, filter: DeliveryListFilter) => withTenant(db, auth, (trx) => listDeliveries(trx, filter)),
    /** What the organisation's admins should hear about, newest first (RLS keeps it to them). */
    notifications: (auth: Tenant, limit: number) => withTenant(db, auth, (trx) => listOutboundEvents(trx, limit)),
    readiness: () => readiness({ db, tours: deps.tours }),
    sync: {
      resync: (auth: Tenant) => startResync({ db, sync: deps.sync, registry: deps.integrations.registry }, auth),
      resyncStatus: (auth: Tenant, id: string) => resyncStatus(db, auth, id),
      conflicts: (auth: Tenant, filter: ConflictFilter) => conflicts(db, auth, filter),
      resolve: (auth: Tenant, id: string, choice: ResolutionChoice, value: SyncValue | undefined) => resolve({ db, sync: deps.sync, logger: deps.logger }, auth, id, choice, value),
      logs: (auth: Tenant, filter: LogFilter) => integrationLogs(db, auth, filter),
    },
    /** The OpenAPI document, built from the endpoints once. */
    openapi,
  };
}

export type ApiContext = ReturnType<typeof createApiContext>;
