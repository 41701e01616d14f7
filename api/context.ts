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
import { createAnalyticsService } from '../services/analytics';
import { BEACON_PURPOSE } from '../services/beacon-tokens';
import { integrationHealth } from '../services/integration-health';
import { createExperimentService } from '../services/experiments';
import { createIntegrationService } from '../services/integrations';
import { createMemberService } from '../services/members';
import { createMembershipResolver } from '../services/memberships';
import { conflicts, integrationLogs, resolve, resyncStatus, startResync, withSyncSchedules, type SyncControl } from '../services/sync';
import type { ConflictFilter } from '../db/repositories/conflicts';
import type { LogFilter } from '../db/repositories/logs';
import type { ResolutionChoice, SyncValue } from '../domain/conflict';
import { createOAuthService } from '../services/oauth';
import { createProgressCache } from '../services/progress-cache';
import type { ProgressFeed } from '../services/progress-feed';
import { createProgressStreams } from '../services/progress-stream';
import { readiness } from '../services/readiness';
import { replayDelivery, replayIntegration, type ReplayDeps } from '../services/replays';
import type { DeliveryReplays, TourWorkflows, UserWorkflows } from '../services/temporal';
import { createTourConfigService } from '../services/tour-config';
import { createTourService } from '../services/tours';
import { createUserDataService } from '../services/user-data';
import { createCalendarPushReceiver } from '../services/inbound/calendar-push';
import { createProviderReceiver } from '../services/inbound/providers';
import { createTourEventReceiver } from '../services/inbound/tour-events';
import { ttlCache, VERIFICATION_CACHE_MS } from '../services/inbound/ttl-cache';
import { createSigningSecretService } from '../services/signing-secrets';
import { createWebhookSubscriptionService } from '../services/webhook-subscriptions';
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
  /**
   * Two-way sync's schedules and requests (services/sync.ts): resyncs, resolved conflicts and calendar
   * notifications ask `sync:{integrationId}` for a pass through it.
   */
  sync: SyncControl;
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
  /** Progress changes as this process hears them: one LISTEN connection, opened on the first stream. */
  realtime: { feed: ProgressFeed; heartbeatMs: number };
  /** What an erasure asks of Temporal: the person's workflows terminated and deleted. */
  userWorkflows: UserWorkflows;
  analytics: {
    beaconTokenTtlSeconds: number;
    /** The HMAC key of the pseudonyms kept after the retention period (db/pseudonyms.ts). */
    pseudonymKey: Uint8Array;
  };
  /** Webhooks: the default grace of rotated signing secrets. */
  webhooks?: {
    /** WEBHOOK_SECRET_GRACE; default 24 h. */
    secretGraceMs?: number;
  };
}

export const DEFAULT_MEMBERSHIP_TTL_MS = 30_000;

const DAY_MS = 24 * 3600_000;

/** What endpoint handlers call: the services, built once per app from its dependencies. */
export function createApiContext(deps: AppDeps, openapi: () => OpenApiDocument) {
  const { db } = deps;
  const scoped = (auth: Tenant): ReplayDeps => ({ scope: (fn) => withTenant(db, auth, fn), replays: deps.replays });
  const members = createMembershipResolver({ db, ttlMs: deps.membershipTtlMs ?? DEFAULT_MEMBERSHIP_TTL_MS });
  const tours = createTourService({ db, workflows: deps.tours, logger: deps.logger, cache: createProgressCache() });
  const { box, publicUrl, outbound } = deps.integrations;
  const graceMs = deps.webhooks?.secretGraceMs ?? DAY_MS;
  const signingSecrets = ttlCache<string[]>(VERIFICATION_CACHE_MS);
  return {
    /** Who a verified token's user is in its organisation: the role every route sees. */
    members,
    tours,
    tourConfig: createTourConfigService({ db }),
    experiments: createExperimentService({ db }),
    /** The organisation's members and settings as admins manage them (`members` resolves tokens). */
    people: createMemberService({ db }),
    integrations: withSyncSchedules(createIntegrationService({ db, ...deps.integrations }), { sync: deps.sync, registry: deps.integrations.registry, logger: deps.logger }),
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
    analytics: createAnalyticsService({
      db,
      beaconKey: deps.integrations.box.deriveKey(BEACON_PURPOSE),
      beaconTokenTtlSeconds: deps.analytics.beaconTokenTtlSeconds,
    }),
    progressStreams: createProgressStreams({ db, feed: deps.realtime.feed, logger: deps.logger }),
    realtimeHeartbeatMs: deps.realtime.heartbeatMs,
    userData: createUserDataService({ db, workflows: deps.userWorkflows, pseudonymKey: deps.analytics.pseudonymKey }),
    sync: {
      resync: (auth: Tenant) => startResync({ db, sync: deps.sync, registry: deps.integrations.registry }, auth),
      resyncStatus: (auth: Tenant, id: string) => resyncStatus(db, auth, id),
      conflicts: (auth: Tenant, filter: ConflictFilter) => conflicts(db, auth, filter),
      resolve: (auth: Tenant, id: string, choice: ResolutionChoice, value: SyncValue | undefined) => resolve({ db, sync: deps.sync, logger: deps.logger }, auth, id, choice, value),
      logs: (auth: Tenant, filter: LogFilter) => integrationLogs(db, auth, filter),
    },
    /** The OpenAPI document, built from the endpoints once. */
    openapi,
    /** Inbound webhooks: tour events, providers' callbacks, calendar notifications. */
    inbound: {
      tourEvents: createTourEventReceiver({ db, box, tours, secrets: signingSecrets }),
      providers: createProviderReceiver({ db, box, publicUrl }),
      calendars: createCalendarPushReceiver({ db, sync: deps.sync }),
    },
    signingSecrets: createSigningSecretService({ db, box, defaultGraceMs: graceMs, verifying: signingSecrets }),
    subscriptions: createWebhookSubscriptionService({ db, box, outbound, defaultGraceMs: graceMs }),
  };
}

export type ApiContext = ReturnType<typeof createApiContext>;
