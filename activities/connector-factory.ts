import type { CategoryConnectors, DeliveryGuard, OAuthSession, OAuthTokens } from '../connectors/contracts';
import { vendorHttp } from '../connectors/http';
import { createOAuthSession, type RefreshGrant } from '../connectors/oauth';
import type { OutboundGuard } from '../connectors/outbound';
import { storedProviderSettings, type Registry } from '../connectors/registry';
import type { Db } from '../db/knex';
import { openCredentials, withLockedCredentials, type IntegrationRow, type Transactor } from '../db/repositories/integrations';
import type { SecretBox } from '../db/secrets';

export interface ConnectorFactoryDeps {
  /** The worker's role (tourhub_worker): it acts for every organisation. Used only to refresh OAuth tokens. */
  db: Db;
  /**
   * How a token refresh gets its transaction, when not `db.transaction` (the API's connection test
   * runs it as the admin's tenant, since it holds no transaction while it calls the vendor).
   */
  transaction?: Transactor;
  box: SecretBox;
  registry: Registry;
  timeoutMs: number;
  /** The deployment's outbound rules: every connector's requests go through them. */
  outbound: OutboundGuard;
  /** Refresh grants of the OAuth providers that are configured (client id and secret set). */
  refreshGrants: Partial<Record<string, RefreshGrant>>;
  guardFor(integration: IntegrationRow): DeliveryGuard;
  now?: () => number;
}

export class IntegrationUnavailable extends Error {
  constructor(
    public readonly code: 'unknown_provider' | 'oauth_not_configured',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Builds live connectors from integration rows. One OAuth session per integration lives as long as the
 * factory, so concurrent activities in a worker share a refresh; the row lock covers other workers.
 */
export function createConnectorFactory(deps: ConnectorFactoryDeps) {
  const sessions = new Map<string, OAuthSession>();
  const now = deps.now ?? Date.now;

  function oauthFor(row: IntegrationRow): OAuthSession {
    const existing = sessions.get(row.id);
    if (existing) return existing;
    const refreshGrant = deps.refreshGrants[row.provider];
    if (!refreshGrant) {
      throw new IntegrationUnavailable('oauth_not_configured', `OAuth client for ${row.provider} is not configured`);
    }
    const session = createOAuthSession({
      refreshGrant,
      now,
      store: {
        load: async () => openCredentials<OAuthTokens>(deps.box, row),
        withLock: (fn) => withLockedCredentials<OAuthTokens>(deps.transaction ?? ((run) => deps.db.transaction(run)), deps.box, row.id, fn),
      },
    });
    sessions.set(row.id, session);
    return session;
  }

  /**
   * Built connectors by integration and row version: building one decrypts credentials and constructs
   * SDK clients (Stripe, googleapis), milliseconds of CPU per delivery otherwise. A changed row (new
   * credentials or settings) has a new updated_at, so it is built afresh.
   */
  const built = new Map<string, { version: number; connector: unknown }>();
  const MAX_BUILT = 1000;

  return {
    forIntegration<C extends keyof CategoryConnectors>(row: IntegrationRow): CategoryConnectors[C] {
      const version = new Date(row.updated_at).getTime();
      const cached = built.get(row.id);
      if (cached && cached.version === version) return cached.connector as CategoryConnectors[C];
      const connector = build<C>(row);
      if (built.size >= MAX_BUILT) built.delete(built.keys().next().value!);
      built.set(row.id, { version, connector });
      return connector;
    },
  };

  function build<C extends keyof CategoryConnectors>(row: IntegrationRow): CategoryConnectors[C] {
    const entry = deps.registry.get(row.provider);
    if (!entry) throw new IntegrationUnavailable('unknown_provider', `No connector for provider "${row.provider}"`);
    const credentials = entry.credentialsSchema.parse(openCredentials(deps.box, row));
    const settings = storedProviderSettings(entry, row.settings.provider);
    return entry.create({
      credentials,
      settings,
      http: vendorHttp({ provider: entry.id, hosts: entry.hosts, guard: deps.outbound, timeoutMs: deps.timeoutMs }),
      guard: deps.guardFor(row),
      ...(entry.auth === 'oauth2' ? { oauth: oauthFor(row) } : {}),
      now,
    }) as CategoryConnectors[C];
  }
}

export type ConnectorFactory = ReturnType<typeof createConnectorFactory>;
