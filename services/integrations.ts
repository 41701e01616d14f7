import crypto from 'node:crypto';
import { createConnectorFactory, IntegrationUnavailable } from '../activities/connector-factory';
import { ConnectorError } from '../connectors/errors';
import type { OAuthClient } from '../connectors/oauth';
import type { AuthKind } from '../connectors/registry-types';
import type { Registry } from '../connectors/registry';
import type { Db } from '../db/knex';
import {
  deleteIntegration,
  findIntegration,
  insertIntegration,
  listIntegrations,
  updateIntegration,
  type IntegrationSettings,
  type RouteSettings,
} from '../db/repositories/integrations';
import { findOrgTimeZone } from '../db/repositories/organizations';
import type { SecretBox } from '../db/secrets';
import { withTenant, type Tenant } from '../db/tenant';
import { checkAgainst, integrationRecord, providerFor, type IntegrationRecord } from './providers';
import { notFound, ok, refuse, type Result } from './result';

export interface IntegrationServiceDeps {
  /** Non-owner connection: only the organisation's admins see its integrations (RLS). */
  db: Db;
  box: SecretBox;
  registry: Registry;
  /** Configured OAuth clients by provider id; a provider missing here cannot be connected. */
  oauthClients: Partial<Record<string, OAuthClient>>;
  connectorTimeoutMs: number;
}

/** Route overrides as a caller sends them: a value sets an override, null drops it (back to the default). */
export type RoutesPatch = { [K in keyof RouteSettings]?: RouteSettings[K] | null };

export interface IntegrationInput {
  provider: string;
  credentials: Record<string, unknown>;
  settings?: Record<string, unknown>;
  fieldMapping?: Record<string, string>;
  enabledEvents?: string[];
  timeZone?: string;
  isActive?: boolean;
  routes?: RoutesPatch;
}

export type IntegrationPatch = Partial<Omit<IntegrationInput, 'provider'>>;

export interface ProviderListing {
  id: string;
  category: string;
  displayName: string;
  auth: AuthKind;
  ratePerSecond: number;
  docsUrl: string;
  /** False for an OAuth provider whose client this server has no id and secret for. */
  connectable: boolean;
}

export type ConnectionTest =
  | { ok: true; latencyMs: number }
  | { ok: false; latencyMs: number; error: { code: string; message: string; retryable: boolean; status: number | null } };

const refuseWrite = async (): Promise<never> => {
  throw new Error('a connection test never writes');
};
/** A connection test only reads: any attempt to record a delivery is a bug. */
const readOnlyGuard = { find: refuseWrite, markAttempted: refuseWrite, markSent: refuseWrite };

/** Stored overrides with `patch` applied. */
function mergeRoutes(stored: RouteSettings | undefined, patch: RoutesPatch | undefined): RouteSettings | undefined {
  if (!patch) return stored;
  const merged: Record<string, unknown> = { ...stored };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  return Object.keys(merged).length > 0 ? (merged as RouteSettings) : undefined;
}

function oauthRequired(entry: { id: string; displayName: string }, message: string) {
  return refuse('oauth_required', message, { start: `/api/integrations/oauth/${entry.id}/start` });
}

export type IntegrationService = ReturnType<typeof createIntegrationService>;

/** An organisation's integrations: created, changed and removed by its admins; credentials sealed, never shown. */
export function createIntegrationService(deps: IntegrationServiceDeps) {
  const { db, box, registry } = deps;
  const record = (row: Parameters<typeof integrationRecord>[2], timeZone: string) => integrationRecord(box, registry, row, timeZone);

  return {
    providers(): ProviderListing[] {
      return [...registry.values()].map((e) => ({
        id: e.id,
        category: e.category,
        displayName: e.displayName,
        auth: e.auth,
        ratePerSecond: e.ratePerSecond,
        docsUrl: e.docsUrl,
        connectable: e.auth !== 'oauth2' || deps.oauthClients[e.id] !== undefined,
      }));
    },

    async list(auth: Tenant): Promise<IntegrationRecord[]> {
      const { rows, timeZone } = await withTenant(db, auth, async (trx) => ({ rows: await listIntegrations(trx), timeZone: await findOrgTimeZone(trx, auth.orgId) }));
      return rows.map((r) => record(r, timeZone));
    },

    async get(auth: Tenant, id: string): Promise<Result<IntegrationRecord, 'not_found'>> {
      const { row, timeZone } = await withTenant(db, auth, async (trx) => ({ row: await findIntegration(trx, id), timeZone: await findOrgTimeZone(trx, auth.orgId) }));
      return row ? ok(record(row, timeZone)) : notFound('Integration', { integration_id: id });
    },

    async create(
      auth: Tenant,
      input: IntegrationInput,
    ): Promise<Result<IntegrationRecord, 'unknown_provider' | 'oauth_required' | 'invalid_credentials' | 'invalid_settings' | 'integration_exists'>> {
      const provider = providerFor(registry, input.provider);
      if (!provider.ok) return provider;
      const entry = provider.value;
      if (entry.auth === 'oauth2') return oauthRequired(entry, `${entry.displayName} is connected through its consent screen`);
      const credentials = checkAgainst(entry.credentialsSchema, input.credentials, 'invalid_credentials');
      if (!credentials.ok) return credentials;
      const providerSettings = checkAgainst(entry.settingsSchema, input.settings ?? {}, 'invalid_settings');
      if (!providerSettings.ok) return providerSettings;
      const routes = mergeRoutes(undefined, input.routes);
      try {
        const { row, timeZone } = await withTenant(db, auth, async (trx) => ({
          row: await insertIntegration(trx, box, {
            id: crypto.randomUUID(),
            organizationId: auth.orgId,
            type: entry.category,
            provider: entry.id,
            settings: {
              provider: providerSettings.value as Record<string, unknown>,
              field_mapping: input.fieldMapping ?? {},
              enabled_events: input.enabledEvents ?? [],
              ...(input.timeZone ? { time_zone: input.timeZone } : {}),
              ...(routes ? { routes } : {}),
            },
            credentials: credentials.value,
            isActive: input.isActive ?? true,
          }),
          timeZone: await findOrgTimeZone(trx, auth.orgId),
        }));
        return ok(record(row, timeZone));
      } catch (err) {
        if ((err as { code?: string }).code === '23505') {
          return refuse('integration_exists', `This organisation already has a ${entry.displayName} integration`);
        }
        throw err;
      }
    },

    /** Changes what is sent; route overrides are merged into the stored ones. */
    async update(
      auth: Tenant,
      id: string,
      patch: IntegrationPatch,
    ): Promise<Result<IntegrationRecord, 'not_found' | 'unknown_provider' | 'oauth_required' | 'invalid_credentials' | 'invalid_settings'>> {
      return withTenant(db, auth, async (trx) => {
        const row = await findIntegration(trx, id);
        if (!row) return notFound('Integration', { integration_id: id });
        const provider = providerFor(registry, row.provider);
        if (!provider.ok) return provider;
        const entry = provider.value;
        if (patch.credentials && entry.auth === 'oauth2') return oauthRequired(entry, `${entry.displayName} credentials come from its consent screen`);
        let providerSettings = row.settings.provider;
        if (patch.settings) {
          const checked = checkAgainst(entry.settingsSchema, patch.settings, 'invalid_settings');
          if (!checked.ok) return checked;
          providerSettings = checked.value as Record<string, unknown>;
        }
        const timeZone = patch.timeZone ?? row.settings.time_zone;
        const settings: IntegrationSettings = {
          provider: providerSettings,
          field_mapping: patch.fieldMapping ?? row.settings.field_mapping ?? {},
          enabled_events: patch.enabledEvents ?? row.settings.enabled_events ?? [],
          ...(timeZone ? { time_zone: timeZone } : {}),
        };
        const routes = mergeRoutes(row.settings.routes, patch.routes);
        if (routes) settings.routes = routes;
        let credentials: unknown;
        if (patch.credentials) {
          const checked = checkAgainst(entry.credentialsSchema, patch.credentials, 'invalid_credentials');
          if (!checked.ok) return checked;
          credentials = checked.value;
        }
        const saved = await updateIntegration(trx, box, row, {
          settings,
          ...(credentials !== undefined ? { credentials } : {}),
          ...(patch.isActive !== undefined ? { isActive: patch.isActive } : {}),
        });
        return ok(record(saved, await findOrgTimeZone(trx, auth.orgId)));
      });
    },

    async disable(auth: Tenant, id: string): Promise<Result<IntegrationRecord, 'not_found'>> {
      return withTenant(db, auth, async (trx) => {
        const row = await findIntegration(trx, id);
        if (!row) return notFound('Integration', { integration_id: id });
        const saved = await updateIntegration(trx, box, row, { isActive: false });
        return ok(record(saved, await findOrgTimeZone(trx, auth.orgId)));
      });
    },

    async remove(auth: Tenant, id: string): Promise<Result<void, 'not_found'>> {
      const deleted = await withTenant(db, auth, (trx) => deleteIntegration(trx, id));
      return deleted ? ok(undefined) : notFound('Integration', { integration_id: id });
    },

    /** Calls the provider's cheapest read with the stored credentials; a provider's refusal is a result, not a refusal. */
    async testConnection(auth: Tenant, id: string): Promise<Result<ConnectionTest, 'not_found' | 'unknown_provider' | 'oauth_not_configured'>> {
      return withTenant(db, auth, async (trx) => {
        const row = await findIntegration(trx, id);
        if (!row) return notFound('Integration', { integration_id: id });
        const factory = createConnectorFactory({
          db: trx,
          box,
          registry,
          timeoutMs: deps.connectorTimeoutMs,
          refreshGrants: Object.fromEntries(Object.entries(deps.oauthClients).map(([k, c]) => [k, c!.refreshGrant])),
          guardFor: () => readOnlyGuard,
        });
        const started = performance.now();
        const latencyMs = () => Math.round(performance.now() - started);
        try {
          await factory.forIntegration(row).ping();
          return ok({ ok: true as const, latencyMs: latencyMs() });
        } catch (err) {
          if (err instanceof IntegrationUnavailable) return refuse(err.code, err.message);
          if (err instanceof ConnectorError) {
            return ok({ ok: false as const, latencyMs: latencyMs(), error: { code: err.code, message: err.message, retryable: err.retryable, status: err.status ?? null } });
          }
          throw err;
        }
      });
    },
  };
}
