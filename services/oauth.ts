import crypto from 'node:crypto';
import type { OAuthTokens } from '../connectors/contracts';
import { ConnectorError } from '../connectors/errors';
import type { OAuthClient } from '../connectors/oauth';
import type { Registry } from '../connectors/registry';
import type { Db } from '../db/knex';
import { findIntegrationByProvider, insertIntegration, updateIntegration } from '../db/repositories/integrations';
import { findOrgTimeZone } from '../db/repositories/organizations';
import type { SecretBox } from '../db/secrets';
import { withTenant, type Tenant } from '../db/tenant';
import { signOAuthState, verifyOAuthState } from './oauth-state';
import { checkAgainst, integrationRecord, providerFor, type IntegrationRecord } from './providers';
import { ok, refuse, type Result } from './result';

export interface OAuthServiceDeps {
  /** Non-owner connection: the callback writes as the admin who started the consent (RLS). */
  db: Db;
  box: SecretBox;
  registry: Registry;
  oauthClients: Partial<Record<string, OAuthClient>>;
  /** Where the provider sends the admin's browser back: `{publicUrl}/api/integrations/oauth/{provider}/callback`. */
  publicUrl: string;
}

export interface ConsentCallback {
  provider: string;
  state: string;
  code?: string;
  /** The provider's own refusal (access_denied), when the admin said no. */
  error?: string;
}

export type StartConsentRefusal = 'unknown_provider' | 'not_oauth_provider' | 'oauth_not_configured';
export type CompleteConsentRefusal =
  | 'unknown_provider'
  | 'oauth_not_configured'
  | 'invalid_oauth_state'
  | 'oauth_denied'
  | 'validation_error'
  | 'oauth_exchange_failed'
  | 'provider_unavailable'
  | 'invalid_credentials';

export type OAuthService = ReturnType<typeof createOAuthService>;

/**
 * Connecting an OAuth provider (Google Calendar, Outlook) through its consent screen. Tokens come only
 * from the code exchange; the `state` binds the consent to the organisation, the admin and the provider.
 */
export function createOAuthService(deps: OAuthServiceDeps) {
  const stateKey = deps.box.deriveKey('oauth-state');
  const redirectUri = (provider: string) => `${deps.publicUrl}/api/integrations/oauth/${provider}/callback`;

  return {
    /** The consent URL to send the admin to. */
    async startConsent(auth: Tenant, providerId: string): Promise<Result<{ authorizeUrl: string }, StartConsentRefusal>> {
      const provider = providerFor(deps.registry, providerId);
      if (!provider.ok) return provider;
      const entry = provider.value;
      const client = deps.oauthClients[entry.id];
      if (entry.auth !== 'oauth2') return refuse('not_oauth_provider', `${entry.displayName} is connected with credentials, not OAuth`);
      if (!client) {
        return refuse('oauth_not_configured', `${entry.displayName} OAuth is not configured on this server`, {
          variables: entry.id === 'google-calendar' ? ['GOOGLE_OAUTH_CLIENT_ID', 'GOOGLE_OAUTH_CLIENT_SECRET'] : ['MICROSOFT_OAUTH_CLIENT_ID', 'MICROSOFT_OAUTH_CLIENT_SECRET'],
        });
      }
      const state = await signOAuthState(stateKey, { orgId: auth.orgId, userId: auth.userId, provider: entry.id });
      return ok({ authorizeUrl: client.authorizeUrl({ state, redirectUri: redirectUri(entry.id) }) });
    },

    /** Exchanges the callback's code and stores the tokens (sealed): a new integration, or new tokens for the existing one. */
    async completeConsent(callback: ConsentCallback): Promise<Result<{ integration: IntegrationRecord; created: boolean }, CompleteConsentRefusal>> {
      const provider = providerFor(deps.registry, callback.provider);
      if (!provider.ok) return provider;
      const entry = provider.value;
      const client = deps.oauthClients[entry.id];
      if (!client) return refuse('oauth_not_configured', `${entry.displayName} OAuth is not configured on this server`);
      const verified = await verifyOAuthState(stateKey, callback.state, entry.id);
      if (!verified.ok) return verified;
      const state = verified.value;
      if (callback.error) {
        return refuse('oauth_denied', `${entry.displayName} did not grant access: ${callback.error}`, { error: callback.error });
      }
      if (!callback.code) return refuse('validation_error', 'The callback has no code', { issues: [{ path: 'code', message: 'required' }] });
      let tokens: OAuthTokens;
      try {
        tokens = await client.exchangeCode({ code: callback.code, redirectUri: redirectUri(entry.id) });
      } catch (err) {
        if (err instanceof ConnectorError && !err.retryable) {
          return refuse('oauth_exchange_failed', `${entry.displayName} refused the authorisation code; start connecting again`, { provider_status: err.status ?? null });
        }
        return refuse('provider_unavailable', `${entry.displayName} could not be reached; try again`);
      }
      const credentials = checkAgainst(entry.credentialsSchema, tokens, 'invalid_credentials');
      if (!credentials.ok) return credentials;
      const tenant: Tenant = { orgId: state.orgId, userId: state.userId, role: 'admin' };
      const { row, created, timeZone } = await withTenant(deps.db, tenant, async (trx) => {
        const timeZone = await findOrgTimeZone(trx, state.orgId);
        const existing = await findIntegrationByProvider(trx, { type: entry.category, provider: entry.id });
        if (existing) {
          return { row: await updateIntegration(trx, deps.box, existing, { credentials: credentials.value, isActive: true }), created: false, timeZone };
        }
        const inserted = await insertIntegration(trx, deps.box, {
          id: crypto.randomUUID(),
          organizationId: state.orgId,
          type: entry.category,
          provider: entry.id,
          settings: { provider: entry.settingsSchema.parse({}) as Record<string, unknown>, field_mapping: {}, enabled_events: [] },
          credentials: credentials.value,
          isActive: true,
        });
        return { row: inserted, created: true, timeZone };
      });
      return ok({ integration: integrationRecord(deps.box, deps.registry, row, timeZone), created });
    },
  };
}
