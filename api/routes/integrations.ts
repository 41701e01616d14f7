import crypto from 'node:crypto';
import { Router } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { createConnectionTests } from '../../activities/connection-test';
import type { OAuthTokens } from '../../connectors/contracts';
import { ConnectorError } from '../../connectors/errors';
import type { RefreshGrant } from '../../connectors/oauth';
import type { OutboundGuard } from '../../connectors/outbound';
import { checkAccountTarget, withoutRetiredSettings, type ProviderEntry, type Registry } from '../../connectors/registry';
import type { Db } from '../../db/knex';
import {
  deleteIntegration,
  findIntegration,
  insertIntegration,
  listIntegrations,
  openCredentials,
  updateIntegration,
  type IntegrationRow,
  type IntegrationSettings,
  type RouteSettings,
} from '../../db/repositories/integrations';
import { listDeliveries, type DeliveryListItem } from '../../db/repositories/deliveries';
import { healthStats, listIntegrationHealth } from '../../db/repositories/health';
import type { SecretBox } from '../../db/secrets';
import { withTenant } from '../../db/tenant';
import { routeOptions } from '../../domain/routes';
import { requireAdmin } from '../middleware/auth';
import { ApiError, notFound, parse, requireJsonBody } from '../middleware/errors';
import { signOAuthState, verifyOAuthState } from '../oauth-state';
import { accountRefusal, connectionTestBody } from '../outbound';
import { REPLAY_BATCH_LIMIT, selectDeliveryReplay, selectIntegrationReplays, startReplays } from '../replays';
import {
  createIntegrationBody,
  deliveryParams,
  integrationParams,
  listDeliveriesQuery,
  oauthCallbackQuery,
  oauthParams,
  oauthStartQuery,
  replayIntegrationBody,
  updateIntegrationBody,
  type RouteSettingsBody,
} from '../schemas/integrations';
import type { DeliveryReplays } from '../temporal';

/** What the routes need from an OAuth provider (Google, Microsoft); built from config in cli/services.ts. */
export interface OAuthClient {
  authorizeUrl(opts: { state: string; redirectUri: string }): string;
  exchangeCode(opts: { code: string; redirectUri: string }): Promise<OAuthTokens>;
  refreshGrant: RefreshGrant;
}

export interface IntegrationsRouterDeps {
  /** Non-owner connection: only the organisation's admins see its integrations (RLS). */
  db: Db;
  box: SecretBox;
  registry: Registry;
  /** Configured OAuth clients by provider id; a provider missing here cannot be connected. */
  oauthClients: Partial<Record<string, OAuthClient>>;
  publicUrl: string;
  connectorTimeoutMs: number;
  /** The deployment's outbound rules: account addresses are checked against them when saved. */
  outbound: OutboundGuard;
  /** Connection tests one organisation may run at once (INTEGRATION_TEST_CONCURRENCY); default 2. */
  connectionTestsPerOrg?: number;
  /** Starts replays of dead deliveries (Temporal); a fake in route tests. */
  replays: DeliveryReplays;
}

/** The seed's delivery target: an integration meets it when at least 95% of the last day's attempts succeeded. */
export const SUCCESS_RATE_TARGET = 0.95;

function mask(value: unknown): string {
  return typeof value === 'string' && value.length >= 12 ? `••••${value.slice(-4)}` : '••••';
}

/** The organisation's zone: due dates and bookings fall in it unless the integration sets its own. */
async function orgTimeZone(trx: Knex, orgId: string): Promise<string> {
  const org = await trx('organizations').select('time_zone').where({ id: orgId }).first();
  return org?.time_zone ?? 'UTC';
}

/** Stored overrides with `patch` applied: a value sets an override, null drops it (back to the default). */
function mergeRoutes(stored: RouteSettings | undefined, patch: RouteSettingsBody | undefined): RouteSettings | undefined {
  if (!patch) return stored;
  const merged: Record<string, unknown> = { ...stored };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  return Object.keys(merged).length > 0 ? (merged as RouteSettings) : undefined;
}

function present(row: IntegrationRow, box: SecretBox, entry: ProviderEntry | undefined, timeZone: string) {
  let credentials: Record<string, string> = {};
  try {
    credentials = Object.fromEntries(Object.entries(openCredentials(box, row)).map(([k, v]) => [k, mask(v)]));
  } catch {
    credentials = { error: 'credentials cannot be decrypted with the current keyring' };
  }
  const effective = routeOptions(row.settings, timeZone);
  return {
    id: row.id,
    provider: row.provider,
    type: row.type,
    display_name: entry?.displayName ?? row.provider,
    is_active: row.is_active,
    health: row.health,
    settings: withoutRetiredSettings(row.settings.provider),
    field_mapping: row.settings.field_mapping ?? {},
    enabled_events: row.settings.enabled_events ?? [],
    time_zone: row.settings.time_zone ?? null,
    /** What the routes will do: the overrides below over seed 001's defaults. */
    routes: {
      follow_up_task_days: effective.followUpTaskDays,
      abandoned_task_days: effective.abandonedTaskDays,
      consultation_days_after: effective.consultationDaysAfter,
      consultation_hour: effective.consultationHour,
      consultation_minutes: effective.consultationMinutes,
      check_in_hour: effective.checkInHour,
      check_in_minutes: effective.checkInMinutes,
      sms_welcome_enabled: effective.smsWelcomeEnabled,
      time_zone: effective.timeZone,
    },
    route_overrides: row.settings.routes ?? {},
    credentials,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** The stored credentials, or nothing if the keyring cannot open them (the request then has to send them). */
function storedCredentials(row: IntegrationRow, box: SecretBox): unknown {
  try {
    return openCredentials(box, row);
  } catch {
    return {};
  }
}

/**
 * Validation failures name the fields, never echo the values: these are secrets. A field the provider
 * does not take at all (such as the retired `settings.baseUrl`) is an unknown field: 400, like any other.
 */
function checkAgainst(schema: z.ZodType, value: unknown, code: 'invalid_credentials' | 'invalid_settings'): unknown {
  const result = schema.safeParse(value);
  if (!result.success) {
    const where = code === 'invalid_credentials' ? 'credentials' : 'settings';
    const unknown = result.error.issues.filter((i) => i.code === 'unrecognized_keys');
    if (unknown.length > 0) {
      throw new ApiError(400, 'validation_error', 'Invalid request body', {
        issues: unknown.map((i) => ({ path: [where, ...i.path].join('.'), code: i.code, message: i.message })),
      });
    }
    throw new ApiError(422, code, code === 'invalid_credentials' ? 'Credentials do not match what this provider needs' : 'Settings do not match what this provider accepts', {
      issues: result.error.issues.map((i) => ({ path: i.path.join('.'), code: i.code, message: i.message })),
    });
  }
  return result.data;
}

export function createIntegrationsRouter(deps: IntegrationsRouterDeps): { router: Router; oauthCallback: Router } {
  const router = Router();
  const stateKey = deps.box.deriveKey('oauth-state');
  const redirectUri = (provider: string) => `${deps.publicUrl}/api/integrations/oauth/${provider}/callback`;
  const providerOr422 = (id: string): ProviderEntry => {
    const entry = deps.registry.get(id);
    if (!entry) {
      throw new ApiError(422, 'unknown_provider', `No provider "${id}"`, { known: [...deps.registry.keys()].sort() });
    }
    return entry;
  };

  const connectionTests = createConnectionTests({
    db: deps.db,
    box: deps.box,
    registry: deps.registry,
    outbound: deps.outbound,
    timeoutMs: deps.connectorTimeoutMs,
    refreshGrants: Object.fromEntries(Object.entries(deps.oauthClients).map(([k, c]) => [k, c!.refreshGrant])),
    maxConcurrentPerOrg: deps.connectionTestsPerOrg ?? 2,
  });

  router.use(requireAdmin());

  router.get('/providers', (_req, res) => {
    res.json({
      providers: [...deps.registry.values()].map((e) => ({
        id: e.id,
        category: e.category,
        display_name: e.displayName,
        auth: e.auth,
        rate_per_second: e.ratePerSecond,
        docs_url: e.docsUrl,
        connectable: e.auth !== 'oauth2' || deps.oauthClients[e.id] !== undefined,
      })),
    });
  });

  router.get('/', async (req, res) => {
    const auth = req.auth!;
    const { rows, timeZone } = await withTenant(deps.db, auth, async (trx) => ({ rows: await listIntegrations(trx), timeZone: await orgTimeZone(trx, auth.orgId) }));
    res.json({ integrations: rows.map((r) => present(r, deps.box, deps.registry.get(r.provider), timeZone)), total: rows.length });
  });

  // Registered before '/:id' so "deliveries" and "health" are never read as integration ids.
  router.get('/deliveries', async (req, res) => {
    const query = parse(listDeliveriesQuery, req.query, 'query');
    const rows = await withTenant(deps.db, req.auth!, (trx) =>
      listDeliveries(trx, {
        limit: query.limit + 1,
        ...(query.status ? { status: query.status } : {}),
        ...(query.integration_id ? { integrationId: query.integration_id } : {}),
        ...(query.event_type ? { eventType: query.event_type } : {}),
        ...(query.cursor ? { after: query.cursor } : {}),
      }),
    );
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    res.json({
      deliveries: page.map(presentDelivery),
      next_cursor: rows.length > query.limit && last ? Buffer.from(JSON.stringify({ t: last.position, i: last.id })).toString('base64url') : null,
    });
  });

  router.post('/deliveries/:id/replay', async (req, res) => {
    const { id } = parse(deliveryParams, req.params, 'path');
    const candidate = await withTenant(deps.db, req.auth!, (trx) => selectDeliveryReplay(trx, id));
    const { started } = await startReplays(deps.replays, [candidate]);
    res.status(202).json({ replay: { delivery_id: started[0]!.delivery_id, workflow_id: started[0]!.workflow_id } });
  });

  router.get('/health', async (req, res) => {
    const { rows, stats } = await withTenant(deps.db, req.auth!, async (trx) => {
      const found = await listIntegrationHealth(trx);
      return { rows: found, stats: await healthStats(trx, found.map((r) => r.id)) };
    });
    res.json({
      target: { success_rate_last_day: SUCCESS_RATE_TARGET },
      integrations: rows.map((r) => {
        const s = stats.get(r.id)!;
        return {
          id: r.id,
          provider: r.provider,
          type: r.type,
          health: r.health,
          health_changed_at: r.health_changed_at,
          success_rate_last_hour: s.lastHour.successRate,
          success_rate_last_day: s.lastDay.successRate,
          p95_ms_last_hour: roundMs(s.lastHour.p95Ms),
          p95_ms_last_day: roundMs(s.lastDay.p95Ms),
          attempts_last_hour: s.lastHour.attempts,
          attempts_last_day: s.lastDay.attempts,
          dead: s.dead,
          pending: s.pending,
          oldest_pending_at: s.oldestPendingAt,
          meets_target: s.lastDay.successRate === null ? null : s.lastDay.successRate >= SUCCESS_RATE_TARGET,
        };
      }),
    });
  });

  router.post('/', requireJsonBody, async (req, res) => {
    const body = parse(createIntegrationBody, req.body ?? {}, 'body');
    const entry = providerOr422(body.provider);
    if (entry.auth === 'oauth2') {
      throw new ApiError(422, 'oauth_required', `${entry.displayName} is connected through its consent screen`, {
        start: `/api/integrations/oauth/${entry.id}/start`,
      });
    }
    const credentials = checkAgainst(entry.credentialsSchema, body.credentials, 'invalid_credentials');
    const providerSettings = checkAgainst(entry.settingsSchema, body.settings ?? {}, 'invalid_settings');
    const target = await checkAccountTarget(deps.outbound, entry, { credentials, settings: providerSettings, credentialsSent: true });
    if (target) throw accountRefusal(entry.displayName, target);
    const auth = req.auth!;
    const routes = mergeRoutes(undefined, body.routes);
    const { row, timeZone } = await withTenant(deps.db, auth, async (trx) => {
      try {
        const inserted = await insertIntegration(trx, deps.box, {
          id: crypto.randomUUID(),
          organizationId: auth.orgId,
          type: entry.category,
          provider: entry.id,
          settings: {
            provider: providerSettings as Record<string, unknown>,
            field_mapping: body.field_mapping ?? {},
            enabled_events: body.enabled_events ?? [],
            ...(body.time_zone ? { time_zone: body.time_zone } : {}),
            ...(routes ? { routes } : {}),
          },
          credentials,
          isActive: body.is_active ?? true,
        });
        return { row: inserted, timeZone: await orgTimeZone(trx, auth.orgId) };
      } catch (err) {
        if ((err as { code?: string }).code === '23505') {
          throw new ApiError(409, 'integration_exists', `This organisation already has a ${entry.displayName} integration`);
        }
        throw err;
      }
    });
    res.status(201).json({ integration: present(row, deps.box, entry, timeZone) });
  });

  router.get('/:id', async (req, res) => {
    const { id } = parse(integrationParams, req.params, 'path');
    const auth = req.auth!;
    const { row, timeZone } = await withTenant(deps.db, auth, async (trx) => ({ row: await findIntegration(trx, id), timeZone: await orgTimeZone(trx, auth.orgId) }));
    if (!row) throw notFound('Integration', { integration_id: id });
    res.json({ integration: present(row, deps.box, deps.registry.get(row.provider), timeZone) });
  });

  router.patch('/:id', requireJsonBody, async (req, res) => {
    const { id } = parse(integrationParams, req.params, 'path');
    const body = parse(updateIntegrationBody, req.body ?? {}, 'body');
    const auth = req.auth!;
    const { updated, timeZone } = await withTenant(deps.db, auth, async (trx) => {
      const row = await findIntegration(trx, id);
      if (!row) throw notFound('Integration', { integration_id: id });
      const entry = providerOr422(row.provider);
      if (body.credentials && entry.auth === 'oauth2') {
        throw new ApiError(422, 'oauth_required', `${entry.displayName} credentials come from its consent screen`, {
          start: `/api/integrations/oauth/${entry.id}/start`,
        });
      }
      const providerSettings = body.settings ? checkAgainst(entry.settingsSchema, body.settings, 'invalid_settings') : withoutRetiredSettings(row.settings.provider);
      const credentials = body.credentials ? checkAgainst(entry.credentialsSchema, body.credentials, 'invalid_credentials') : undefined;
      const target = await checkAccountTarget(deps.outbound, entry, { credentials: credentials ?? storedCredentials(row, deps.box), settings: providerSettings, credentialsSent: credentials !== undefined }, {
        credentials: storedCredentials(row, deps.box),
        settings: withoutRetiredSettings(row.settings.provider),
      });
      if (target) throw accountRefusal(entry.displayName, target);
      const settings: IntegrationSettings = {
        provider: providerSettings as Record<string, unknown>,
        field_mapping: body.field_mapping ?? row.settings.field_mapping ?? {},
        enabled_events: body.enabled_events ?? row.settings.enabled_events ?? [],
        ...((body.time_zone ?? row.settings.time_zone) ? { time_zone: body.time_zone ?? row.settings.time_zone } : {}),
      };
      const routes = mergeRoutes(row.settings.routes, body.routes);
      if (routes) settings.routes = routes;
      const saved = await updateIntegration(trx, deps.box, row, {
        settings,
        ...(credentials !== undefined ? { credentials } : {}),
        ...(body.is_active !== undefined ? { isActive: body.is_active } : {}),
      });
      return { updated: saved, timeZone: await orgTimeZone(trx, auth.orgId) };
    });
    res.json({ integration: present(updated, deps.box, deps.registry.get(updated.provider), timeZone) });
  });

  router.post('/:id/disable', async (req, res) => {
    const { id } = parse(integrationParams, req.params, 'path');
    const auth = req.auth!;
    const { updated, timeZone } = await withTenant(deps.db, auth, async (trx) => {
      const row = await findIntegration(trx, id);
      if (!row) throw notFound('Integration', { integration_id: id });
      return { updated: await updateIntegration(trx, deps.box, row, { isActive: false }), timeZone: await orgTimeZone(trx, auth.orgId) };
    });
    res.json({ integration: present(updated, deps.box, deps.registry.get(updated.provider), timeZone) });
  });

  router.post('/:id/replay', requireJsonBody, async (req, res) => {
    const { id } = parse(integrationParams, req.params, 'path');
    parse(replayIntegrationBody, req.body ?? {}, 'body');
    const selection = await withTenant(deps.db, req.auth!, (trx) => selectIntegrationReplays(trx, id, REPLAY_BATCH_LIMIT));
    const { started, failed } = await startReplays(deps.replays, selection.candidates);
    const left = selection.deadTotal - selection.candidates.length - selection.notReplayable.length;
    res.status(202).json({
      integration_id: id,
      status: 'dead',
      replays: started.map((r) => ({ delivery_id: r.delivery_id, workflow_id: r.workflow_id })),
      count: started.length,
      limit: REPLAY_BATCH_LIMIT,
      dead_total: selection.deadTotal,
      remaining: left,
      not_replayable: selection.notReplayable,
      failed,
      message:
        left > 0
          ? `Started ${started.length} replays, the oldest first; at most ${REPLAY_BATCH_LIMIT} start per call, so ${left} dead deliveries remain: call again once these have run`
          : `Started ${started.length} replays (at most ${REPLAY_BATCH_LIMIT} per call)`,
    });
  });

  router.delete('/:id', async (req, res) => {
    const { id } = parse(integrationParams, req.params, 'path');
    const deleted = await withTenant(deps.db, req.auth!, (trx) => deleteIntegration(trx, id));
    if (!deleted) throw notFound('Integration', { integration_id: id });
    res.status(204).end();
  });

  // The service reads the row and lets go of the database before it calls the vendor.
  router.post('/:id/test', async (req, res) => {
    const { id } = parse(integrationParams, req.params, 'path');
    res.json(connectionTestBody(id, await connectionTests.run(req.auth!, id)));
  });

  router.get('/oauth/:provider/start', async (req, res) => {
    const { provider } = parse(oauthParams, req.params, 'path');
    const query = parse(oauthStartQuery, req.query, 'query');
    const entry = providerOr422(provider);
    const client = deps.oauthClients[entry.id];
    if (entry.auth !== 'oauth2') throw new ApiError(422, 'not_oauth_provider', `${entry.displayName} is connected with credentials, not OAuth`);
    if (!client) {
      throw new ApiError(422, 'oauth_not_configured', `${entry.displayName} OAuth is not configured on this server`, {
        variables: entry.id === 'google-calendar' ? ['GOOGLE_OAUTH_CLIENT_ID', 'GOOGLE_OAUTH_CLIENT_SECRET'] : ['MICROSOFT_OAUTH_CLIENT_ID', 'MICROSOFT_OAUTH_CLIENT_SECRET'],
      });
    }
    const state = await signOAuthState(stateKey, { orgId: req.auth!.orgId, userId: req.auth!.userId, provider: entry.id });
    const url = client.authorizeUrl({ state, redirectUri: redirectUri(entry.id) });
    if (query.response === 'json') {
      res.json({ authorize_url: url });
      return;
    }
    res.redirect(302, url);
  });

  // The provider redirects the admin's browser here: no bearer token, the signed state is the proof.
  const oauthCallback = Router();
  oauthCallback.get('/oauth/:provider/callback', async (req, res) => {
    const { provider } = parse(oauthParams, req.params, 'path');
    const query = parse(oauthCallbackQuery, req.query, 'query');
    const entry = providerOr422(provider);
    const client = deps.oauthClients[entry.id];
    if (!client) throw new ApiError(422, 'oauth_not_configured', `${entry.displayName} OAuth is not configured on this server`);
    const state = await verifyOAuthState(stateKey, query.state, entry.id);
    if (query.error) {
      throw new ApiError(400, 'oauth_denied', `${entry.displayName} did not grant access: ${query.error}`, { error: query.error });
    }
    if (!query.code) throw new ApiError(400, 'validation_error', 'The callback has no code', { issues: [{ path: 'code', message: 'required' }] });
    let tokens: OAuthTokens;
    try {
      tokens = await client.exchangeCode({ code: query.code, redirectUri: redirectUri(entry.id) });
    } catch (err) {
      if (err instanceof ConnectorError && !err.retryable) {
        throw new ApiError(400, 'oauth_exchange_failed', `${entry.displayName} refused the authorisation code; start connecting again`, { provider_status: err.status ?? null });
      }
      throw new ApiError(503, 'provider_unavailable', `${entry.displayName} could not be reached; try again`);
    }
    const credentials = checkAgainst(entry.credentialsSchema, tokens, 'invalid_credentials');
    const tenant = { orgId: state.orgId, userId: state.userId, role: 'admin' as const };
    const { row, created, timeZone } = await withTenant(deps.db, tenant, async (trx) => {
      const timeZone = await orgTimeZone(trx, state.orgId);
      const existing = await trx('organization_integrations').select('id').where({ type: entry.category, provider: entry.id }).first();
      if (existing) {
        const current = (await findIntegration(trx, existing.id))!;
        return { row: await updateIntegration(trx, deps.box, current, { credentials, isActive: true }), created: false, timeZone };
      }
      return {
        row: await insertIntegration(trx, deps.box, {
          id: crypto.randomUUID(),
          organizationId: state.orgId,
          type: entry.category,
          provider: entry.id,
          settings: { provider: entry.settingsSchema.parse({}) as Record<string, unknown>, field_mapping: {}, enabled_events: [] },
          credentials,
          isActive: true,
        }),
        created: true,
        timeZone,
      };
    });
    res.status(created ? 201 : 200).json({ integration: present(row, deps.box, entry, timeZone) });
  });

  return { router, oauthCallback };
}

const roundMs = (ms: number | null) => (ms === null ? null : Math.round(ms));

/** The listing's shape: what and where, never the payload or the sealed call (they name a person). */
function presentDelivery(d: DeliveryListItem) {
  return {
    id: d.id,
    integration_id: d.integration_id,
    provider: d.provider,
    event_id: d.event_id,
    event_type: d.event_type,
    action: d.action,
    idempotency_key: d.idempotency_key,
    status: d.status,
    attempts: d.attempts,
    last_error: d.last_error,
    created_at: d.created_at,
    updated_at: d.updated_at,
    delivered_at: d.delivered_at,
    workflow_id: d.workflow_id,
  };
}
