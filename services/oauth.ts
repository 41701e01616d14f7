import crypto from 'node:crypto';
import type { OAuthTokens } from '../connectors/contracts';
import { ConnectorError } from '../connectors/errors';
import type { OAuthClient } from '../connectors/oauth';
import type { Registry } from '../connectors/registry';
import type { Db } from '../db/knex';
import { findIntegrationByProvider, insertIntegration, updateIntegration } from '../db/repositories/integrations';
import { consumeOAuthState, insertOAuthState, type ConsumeFailure } from '../db/repositories/oauth-states';
import { findOrgTimeZone } from '../db/repositories/organizations';
import type { SecretBox } from '../db/secrets';
import { withTenant, type Tenant } from '../db/tenant';
import type { MembershipResolver } from './memberships';
import { browserHash, newConsentSecrets, OAUTH_STATE_TTL_SECONDS, signOAuthState, verifyOAuthState } from './oauth-state';
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
  /** The callback acts for the admin who started the consent, if they still are one. */
  members: MembershipResolver;
}

/**
 * The cookie that binds a consent to the browser that started it: set by the start, sent back (only) to
 * the provider's callback path, for as long as the state lives. HttpOnly and SameSite=Lax (the callback
 * is a top-level navigation from the provider), Secure when the public URL is https.
 */
export interface BrowserBinding {
  name: string;
  value: string;
  path: string;
  secure: boolean;
  maxAgeSeconds: number;
}

export const BROWSER_BINDING_COOKIE = 'tourhub_oauth';

export interface ConsentCallback {
  provider: string;
  state: string;
  /** The browser-binding cookie the callback request carried, if any. */
  browserBinding?: string;
  code?: string;
  /** The provider's own refusal (access_denied), when the admin said no. */
  error?: string;
}

export type StartConsentRefusal = 'unknown_provider' | 'not_oauth_provider' | 'oauth_not_configured';
export type CompleteConsentRefusal =
  | 'unknown_provider'
  | 'oauth_not_configured'
  | 'invalid_oauth_state'
  | 'not_a_member'
  | 'admin_required'
  | 'oauth_denied'
  | 'validation_error'
  | 'oauth_exchange_failed'
  | 'provider_unavailable'
  | 'invalid_credentials';

export type OAuthService = ReturnType<typeof createOAuthService>;

const CONSUME_REFUSALS: Record<ConsumeFailure, string> = {
  unknown: 'The OAuth state is not one we issued',
  already_used: 'This consent was already completed; start connecting again',
  expired: 'This consent link has expired; start connecting again',
  browser_mismatch: 'This consent was started in another browser; start connecting again from this one',
};

/**
 * Connecting an OAuth provider (Google Calendar, Outlook) through its consent screen. Tokens come only
 * from the code exchange. A consent is stored when it starts (oauth_states) and its `state` names it:
 * the callback consumes it once, only from the browser that started it (a cookie), and sends the PKCE
 * verifier kept with it, so neither a replayed callback nor a code intercepted on its way back connects
 * anything.
 */
export function createOAuthService(deps: OAuthServiceDeps) {
  const stateKey = deps.box.deriveKey('oauth-state');
  const redirectUri = (provider: string) => `${deps.publicUrl}/api/integrations/oauth/${provider}/callback`;
  /** Sent back only to the provider's callback (under the public URL's path, behind a proxy), Secure over https. */
  const bindingFor = (provider: string, value: string): BrowserBinding => {
    const callback = new URL(redirectUri(provider));
    return { name: BROWSER_BINDING_COOKIE, value, path: callback.pathname, secure: callback.protocol === 'https:', maxAgeSeconds: OAUTH_STATE_TTL_SECONDS };
  };

  return {
    /** The consent URL to send the admin to. */
    async startConsent(auth: Tenant, providerId: string): Promise<Result<{ authorizeUrl: string; binding: BrowserBinding }, StartConsentRefusal>> {
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
      const secrets = newConsentSecrets();
      await withTenant(deps.db, auth, (trx) =>
        insertOAuthState(trx, {
          id: secrets.nonce,
          orgId: auth.orgId,
          userId: auth.userId,
          provider: entry.id,
          browserHash: browserHash(secrets.browserBinding),
          codeVerifier: secrets.codeVerifier,
          ttlSeconds: OAUTH_STATE_TTL_SECONDS,
        }),
      );
      const state = await signOAuthState(stateKey, { orgId: auth.orgId, userId: auth.userId, provider: entry.id, nonce: secrets.nonce });
      return ok({
        authorizeUrl: client.authorizeUrl({ state, redirectUri: redirectUri(entry.id), codeChallenge: secrets.codeChallenge }),
        binding: bindingFor(entry.id, secrets.browserBinding),
      });
    },

    /** Exchanges the callback's code and stores the tokens (sealed): a new integration, or new tokens for the existing one. */
    async completeConsent(callback: ConsentCallback): Promise<Result<{ integration: IntegrationRecord; created: boolean; binding: BrowserBinding }, CompleteConsentRefusal>> {
      const provider = providerFor(deps.registry, callback.provider);
      if (!provider.ok) return provider;
      const entry = provider.value;
      const client = deps.oauthClients[entry.id];
      if (!client) return refuse('oauth_not_configured', `${entry.displayName} OAuth is not configured on this server`);
      const verified = await verifyOAuthState(stateKey, callback.state, entry.id);
      if (!verified.ok) return verified;
      const state = verified.value;
      if (!callback.browserBinding) {
        return refuse('invalid_oauth_state', 'This consent was started in another browser (or its cookie was lost); start connecting again from this one', { reason: 'no_browser_binding' });
      }
      // The admin who started the consent acts in the callback, if the organisation still says they are one.
      const member = await deps.members.resolve({ orgId: state.orgId, userId: state.userId, claims: {} });
      if (!member.ok) return member;
      if (member.value.role !== 'admin') return refuse('admin_required', 'Only organisation admins can connect integrations');
      const tenant = member.value;
      const consumed = await withTenant(deps.db, tenant, (trx) => consumeOAuthState(trx, { id: state.nonce, provider: entry.id, browserHash: browserHash(callback.browserBinding!) }));
      if (!consumed.ok) return refuse('invalid_oauth_state', CONSUME_REFUSALS[consumed.reason], { reason: consumed.reason });
      if (callback.error) {
        return refuse('oauth_denied', `${entry.displayName} did not grant access: ${callback.error}`, { error: callback.error });
      }
      if (!callback.code) return refuse('validation_error', 'The callback has no code', { issues: [{ path: 'code', message: 'required' }] });
      let tokens: OAuthTokens;
      try {
        tokens = await client.exchangeCode({ code: callback.code, redirectUri: redirectUri(entry.id), codeVerifier: consumed.codeVerifier });
      } catch (err) {
        if (err instanceof ConnectorError && !err.retryable) {
          return refuse('oauth_exchange_failed', `${entry.displayName} refused the authorisation code; start connecting again`, { provider_status: err.status ?? null });
        }
        return refuse('provider_unavailable', `${entry.displayName} could not be reached; try again`);
      }
      const credentials = checkAgainst(entry.credentialsSchema, tokens, 'invalid_credentials');
      if (!credentials.ok) return credentials;
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
      return ok({ integration: integrationRecord(deps.box, deps.registry, row, timeZone), created, binding: bindingFor(entry.id, '') });
    },
  };
}
