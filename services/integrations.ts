import crypto from 'node:crypto';
import type { OAuthClient } from '../connectors/oauth';
import type { OutboundGuard } from '../connectors/outbound';
import type { AuthKind } from '../connectors/registry-types';
import { checkAccountTarget, checkRetiredSettings, withoutRetiredSettings, type Registry } from '../connectors/registry';
import type { Db } from '../db/knex';
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
} from '../db/repositories/integrations';
import { findOrgTimeZone } from '../db/repositories/organizations';
import type { SecretBox } from '../db/secrets';
import { withTenant, type Tenant } from '../db/tenant';
import { createConnectionTests, type ConnectionTest, type ConnectionTestRefusal } from './connection-tests';
import { accountRefusal } from './outbound-refusals';
import { checkSent, integrationRecord, providerFor, type IntegrationRecord } from './providers';
import { notFound, ok, refuse, type Result } from './result';

export type { ConnectionTest } from './connection-tests';

export interface IntegrationServiceDeps {
  /** Non-owner connection: only the organisation's admins see its integrations (RLS). */
  db: Db;
  box: SecretBox;
  registry: Registry;
  /** Configured OAuth clients by provider id; a provider missing here cannot be connected. */
  oauthClients: Partial<Record<string, OAuthClient>>;
  connectorTimeoutMs: number;
  /** The deployment's outbound rules: account addresses are checked against them when saved, and tests go through them. */
  outbound: OutboundGuard;
  /** Connection tests one organisation may run at once in this process (INTEGRATION_TEST_CONCURRENCY); default 2. */
  connectionTestsPerOrg?: number;
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

/** Refusals of the account-address rules (services/outbound-refusals.ts). */
type AccountRefusalCode = 'outbound_address_forbidden' | 'credentials_required';

/** The stored credentials, or nothing if the keyring cannot open them (the request then has to send them). */
function storedCredentials(row: IntegrationRow, box: SecretBox): unknown {
  try {
    return openCredentials(box, row);
  } catch {
    return {};
  }
}

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
  const connectionTests = createConnectionTests({
    db,
    box,
    registry,
    outbound: deps.outbound,
    timeoutMs: deps.connectorTimeoutMs,
    refreshGrants: Object.fromEntries(Object.entries(deps.oauthClients).map(([k, c]) => [k, c!.refreshGrant])),
    maxConcurrentPerOrg: deps.connectionTestsPerOrg ?? 2,
  });

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
    ): Promise<
      Result<IntegrationRecord, 'unknown_provider' | 'oauth_required' | 'validation_error' | 'invalid_credentials' | 'invalid_settings' | AccountRefusalCode | 'integration_exists'>
    > {
      const provider = providerFor(registry, input.provider);
      if (!provider.ok) return provider;
      const entry = provider.value;
      if (entry.auth === 'oauth2') return oauthRequired(entry, `${entry.displayName} is connected through its consent screen`);
      const credentials = checkSent(entry.credentialsSchema, input.credentials, 'credentials');
      if (!credentials.ok) return credentials;
      const retired = await checkRetiredSettings(deps.outbound, entry, input.settings);
      if (retired) return accountRefusal(entry.displayName, retired);
      const providerSettings = checkSent(entry.settingsSchema, input.settings ?? {}, 'settings');
      if (!providerSettings.ok) return providerSettings;
      // Resolved before the transaction opens: a slow DNS answer holds no pooled connection.
      const target = await checkAccountTarget(deps.outbound, entry, { credentials: credentials.value, settings: providerSettings.value, credentialsSent: true });
      if (target) return accountRefusal(entry.displayName, target);
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
    ): Promise<
      Result<IntegrationRecord, 'not_found' | 'unknown_provider' | 'oauth_required' | 'validation_error' | 'invalid_credentials' | 'invalid_settings' | AccountRefusalCode>
    > {
      return withTenant(db, auth, async (trx) => {
        const row = await findIntegration(trx, id);
        if (!row) return notFound('Integration', { integration_id: id });
        const provider = providerFor(registry, row.provider);
        if (!provider.ok) return provider;
        const entry = provider.value;
        if (patch.credentials && entry.auth === 'oauth2') return oauthRequired(entry, `${entry.displayName} credentials come from its consent screen`);
        // Retired keys (settings.baseUrl) are dropped from what is written back.
        const storedSettings = withoutRetiredSettings(row.settings.provider);
        let providerSettings = storedSettings;
        if (patch.settings) {
          const retired = await checkRetiredSettings(deps.outbound, entry, patch.settings);
          if (retired) return accountRefusal(entry.displayName, retired);
          const checked = checkSent(entry.settingsSchema, patch.settings, 'settings');
          if (!checked.ok) return checked;
          providerSettings = checked.value as Record<string, unknown>;
        }
        let credentials: unknown;
        if (patch.credentials) {
          const checked = checkSent(entry.credentialsSchema, patch.credentials, 'credentials');
          if (!checked.ok) return checked;
          credentials = checked.value;
        }
        // Credentials are bound to their account's host: a new host needs them again, and passes the
        // outbound rules. Only a change of account address resolves a name, so the transaction is held
        // for that DNS answer (at most 3 s) only on that rare change.
        const stored = { credentials: storedCredentials(row, box), settings: storedSettings };
        const target = await checkAccountTarget(
          deps.outbound,
          entry,
          { credentials: credentials ?? stored.credentials, settings: providerSettings, credentialsSent: credentials !== undefined },
          stored,
        );
        if (target) return accountRefusal(entry.displayName, target);
        const timeZone = patch.timeZone ?? row.settings.time_zone;
        const settings: IntegrationSettings = {
          provider: providerSettings,
          field_mapping: patch.fieldMapping ?? row.settings.field_mapping ?? {},
          enabled_events: patch.enabledEvents ?? row.settings.enabled_events ?? [],
          ...(timeZone ? { time_zone: timeZone } : {}),
        };
        const routes = mergeRoutes(row.settings.routes, patch.routes);
        if (routes) settings.routes = routes;
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

    /**
     * Calls the provider's cheapest read with the stored credentials; a provider's refusal is a result,
     * not a refusal. No database connection is held while the vendor answers (services/connection-tests.ts).
     */
    testConnection(auth: Tenant, id: string): Promise<Result<ConnectionTest, ConnectionTestRefusal>> {
      return connectionTests.run(auth, id);
    },
  };
}
