import type { Logger } from 'pino';
import type { OAuthClient } from '../connectors/oauth';
import type { OutboundGuard } from '../connectors/outbound';
import type { Registry } from '../connectors/registry';
import type { Db } from '../db/knex';
import { listDeliveries, type DeliveryListFilter } from '../db/repositories/deliveries';
import { listOutboundEvents } from '../db/repositories/outbound-events';
import type { SecretBox } from '../db/secrets';
import { createCodecService } from '../services/payload-codec';
import { createCodecSessions } from './middleware/codec';
import { withTenant, type Tenant } from '../db/tenant';
import { integrationHealth } from '../services/integration-health';
import { createIntegrationService } from '../services/integrations';
import { createMembershipResolver } from '../services/memberships';
import { createOAuthService } from '../services/oauth';
import { createProgressCache } from '../services/progress-cache';
import { readiness } from '../services/readiness';
import { replayDelivery, replayIntegration, type ReplayDeps } from '../services/replays';
import type { DeliveryReplays, TourWorkflows } from '../services/temporal';
import { createTourService } from '../services/tours';
import type { TokenVerifier } from './middleware/auth';
import { createRateLimiters, type RateLimitSettings } from './rate-limits';
import type { OpenApiDocument } from './openapi';

export interface AppDeps {
  /** Non-owner connection (RLS applies). */
  db: Db;
  tours: TourWorkflows;
  verifier: TokenVerifier;
  /**
   * How long a member's role is trusted without asking Postgres again (MEMBERSHIP_CACHE_TTL), per API
   * process: the bound on how stale a removed member's or a changed role's access can be. Default 30 s.
   */
  membershipTtlMs?: number;
  logger: Logger;
  /** Starts replays of dead deliveries: the integrations API's replay routes. */
  replays: DeliveryReplays;
  /** The Temporal Web UI's codec endpoint; without it no browser origin may call it. */
  codec?: {
    /** Origins of the Web UI (TEMPORAL_UI_ORIGIN). */
    uiOrigins: readonly string[];
    /** Only this organisation's admins may use it (CODEC_ADMIN_ORG_ID). */
    adminOrgId?: string | undefined;
  };
  /** Per-user limits of the endpoints that declare one (counted in `db`, shared by every API process). */
  rateLimits: RateLimitSettings;
  integrations: {
    /** Encrypts credentials and, with the same keyring, Temporal payloads (the codec endpoint). */
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

export const DEFAULT_MEMBERSHIP_TTL_MS = 30_000;

/** What endpoint handlers call: the services, built once per app from its dependencies. */
export function createApiContext(deps: AppDeps, openapi: () => OpenApiDocument) {
  const { db } = deps;
  const scoped = (auth: Tenant): ReplayDeps => ({ scope: (fn) => withTenant(db, auth, fn), replays: deps.replays });
  const members = createMembershipResolver({ db, ttlMs: deps.membershipTtlMs ?? DEFAULT_MEMBERSHIP_TTL_MS });
  return {
    /** Who a verified token's user is in its organisation: the role every route sees. */
    members,
    tours: createTourService({ db, workflows: deps.tours, logger: deps.logger, cache: createProgressCache() }),
    integrations: createIntegrationService({ db, ...deps.integrations }),
    oauth: createOAuthService({ db, ...deps.integrations, members }),
    replays: {
      delivery: (auth: Tenant, deliveryId: string) => replayDelivery(scoped(auth), deliveryId),
      integration: (auth: Tenant, integrationId: string) => replayIntegration(scoped(auth), integrationId),
    },
    integrationHealth: (auth: Tenant) => integrationHealth(db, auth),
    /** Newest first, keyset-paginated; RLS keeps them to the organisation's admins. */
    deliveries: (auth: Tenant, filter: DeliveryListFilter) => withTenant(db, auth, (trx) => listDeliveries(trx, filter)),
    /** What the organisation's admins should hear about, newest first (RLS keeps it to them). */
    notifications: (auth: Tenant, limit: number) => withTenant(db, auth, (trx) => listOutboundEvents(trx, limit)),
    readiness: () => readiness({ db, tours: deps.tours, logger: deps.logger }),
    rateLimits: createRateLimiters(db, deps.rateLimits),
    /** The codec endpoint's decode and encode, and the browser sessions that authenticate the Web UI. */
    codec: {
      ...createCodecService(deps.integrations.box),
      sessions: createCodecSessions(deps.integrations.box, { secure: deps.integrations.publicUrl.startsWith('https:') }),
    },
    /** The OpenAPI document, built from the endpoints once. */
    openapi,
  };
}

export type ApiContext = ReturnType<typeof createApiContext>;
