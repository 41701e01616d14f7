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
import { createOAuthService } from '../services/oauth';
import { createProgressCache } from '../services/progress-cache';
import { readiness } from '../services/readiness';
import { replayDelivery, replayIntegration, type ReplayDeps } from '../services/replays';
import type { DeliveryReplays, TourWorkflows } from '../services/temporal';
import { createTourService } from '../services/tours';
import { createCalendarPushReceiver } from '../services/inbound/calendar-push';
import { createProviderReceiver } from '../services/inbound/providers';
import { createTourEventReceiver } from '../services/inbound/tour-events';
import { ttlCache, VERIFICATION_CACHE_MS } from '../services/inbound/ttl-cache';
import { createSigningSecretService } from '../services/signing-secrets';
import type { SyncRequestDeps } from '../services/sync-requests';
import { createWebhookSubscriptionService } from '../services/webhook-subscriptions';
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
  /**
   * Webhooks: the sync engine's workflow client, which calendar notifications start or signal, and the
   * default grace of rotated secrets. Without it (apps that serve no calendar), a calendar notification
   * is answered 503 and the provider sends it again.
   */
  webhooks?: {
    sync: SyncRequestDeps;
    /** WEBHOOK_SECRET_GRACE; default 24 h. */
    secretGraceMs?: number;
  };
}

const DAY_MS = 24 * 3600_000;

/** What calendar notifications ask of Temporal when the app was given no client: refused, so the provider retries. */
const NO_SYNC: SyncRequestDeps = {
  taskQueue: 'none',
  client: {
    workflow: {
      signalWithStart: () => Promise.reject(Object.assign(new Error('this API has no workflow client for the sync engine'), { code: 14 })),
    } as unknown as SyncRequestDeps['client']['workflow'],
  },
};

/** What endpoint handlers call: the services, built once per app from its dependencies. */
export function createApiContext(deps: AppDeps, openapi: () => OpenApiDocument) {
  const { db } = deps;
  const scoped = (auth: Tenant): ReplayDeps => ({ scope: (fn) => withTenant(db, auth, fn), replays: deps.replays });
  const tours = createTourService({ db, workflows: deps.tours, logger: deps.logger, cache: createProgressCache() });
  const { box, publicUrl, outbound } = deps.integrations;
  const graceMs = deps.webhooks?.secretGraceMs ?? DAY_MS;
  const signingSecrets = ttlCache<string[]>(VERIFICATION_CACHE_MS);
  return {
    tours,
    integrations: createIntegrationService({ db, ...deps.integrations }),
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
    /** The OpenAPI document, built from the endpoints once. */
    openapi,
    /** Inbound webhooks: tour events, providers' callbacks, calendar notifications. */
    inbound: {
      tourEvents: createTourEventReceiver({ db, box, tours, secrets: signingSecrets }),
      providers: createProviderReceiver({ db, box, publicUrl }),
      calendars: createCalendarPushReceiver({ db, sync: deps.webhooks?.sync ?? NO_SYNC }),
    },
    signingSecrets: createSigningSecretService({ db, box, defaultGraceMs: graceMs, verifying: signingSecrets }),
    subscriptions: createWebhookSubscriptionService({ db, box, outbound, defaultGraceMs: graceMs }),
  };
}

export type ApiContext = ReturnType<typeof createApiContext>;
