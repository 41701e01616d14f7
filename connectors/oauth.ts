import { z } from 'zod';
import type { OAuthSession, OAuthTokens } from './contracts';
import { ConnectorError } from './errors';

/** What an OAuth provider's consent stores (encrypted) as an integration's credentials. */
export const oauthTokensSchema = z
  .object({
    accessToken: z.string().min(1),
    refreshToken: z.string().min(1).optional(),
    /** Epoch milliseconds. */
    expiresAt: z.number().int().positive().optional(),
    scope: z.string().optional(),
  })
  .strict();

export interface OAuthStore {
  /** The integration's current tokens (decrypted). */
  load(): Promise<OAuthTokens>;
  /**
   * Runs `fn` holding the integration's lock across processes (a row lock in Postgres), with the tokens
   * as stored at that moment; whatever `fn` returns is written back (encrypted) before the lock is released.
   */
  withLock(fn: (current: OAuthTokens) => Promise<OAuthTokens>): Promise<OAuthTokens>;
}

/** Exchanges a refresh token at the provider's token endpoint (Google, Microsoft identity platform). */
export type RefreshGrant = (refreshToken: string) => Promise<OAuthTokens>;

/**
 * One configured OAuth provider (Google, Microsoft) as the consent flow and the connectors use it: the
 * consent URL, the code exchange of the callback, and the refresh grant. Built from config in
 * cli/oauth-clients.ts; a provider without a client id and secret has none and cannot be connected.
 */
export interface OAuthClient {
  /** `codeChallenge`: PKCE (RFC 7636), the S256 challenge of the verifier the exchange will send. */
  authorizeUrl(opts: { state: string; redirectUri: string; codeChallenge: string }): string;
  exchangeCode(opts: { code: string; redirectUri: string; codeVerifier: string }): Promise<OAuthTokens>;
  refreshGrant: RefreshGrant;
}

// Refresh a minute early, so a token never expires between our check and the provider's.
const EXPIRY_SKEW_MS = 60_000;

/**
 * An OAuth session whose refreshes collapse: concurrent callers in this process share one in-flight
 * refresh, and across processes the store's lock makes the second refresher see the first one's token
 * and use it instead of refreshing again (which some providers punish by revoking the older token).
 */
export function createOAuthSession(opts: { store: OAuthStore; refreshGrant: RefreshGrant; now: () => number }): OAuthSession {
  let cached: OAuthTokens | undefined;
  let inFlight: Promise<string> | undefined;

  const expired = (t: OAuthTokens) => t.expiresAt !== undefined && t.expiresAt - EXPIRY_SKEW_MS <= opts.now();

  const refresh = (staleToken: string): Promise<string> => {
    inFlight ??= (async () => {
      try {
        const tokens = await opts.store.withLock(async (current) => {
          // Someone else refreshed while we waited for the lock: theirs is good.
          if (current.accessToken !== staleToken && !expired(current)) return current;
          if (!current.refreshToken) throw new Error('integration has no refresh token; reconnect it');
          const fresh = await opts.refreshGrant(current.refreshToken);
          // Providers may omit the refresh token when it did not change.
          return { ...fresh, refreshToken: fresh.refreshToken ?? current.refreshToken };
        });
        cached = tokens;
        return tokens.accessToken;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  return {
    async accessToken() {
      if (inFlight) return inFlight;
      cached ??= await opts.store.load();
      if (expired(cached)) return refresh(cached.accessToken);
      return cached.accessToken;
    },
    async refresh(staleToken: string) {
      if (cached && cached.accessToken !== staleToken && !expired(cached)) return cached.accessToken;
      return refresh(staleToken);
    },
  };
}

/**
 * A token from the session, with token trouble (no refresh token, a refusal) turned into a
 * non-retryable `unauthorized` ConnectorError; the token endpoint's own ConnectorErrors pass through.
 */
export async function sessionToken(provider: string, get: () => Promise<string>): Promise<string> {
  try {
    return await get();
  } catch (err) {
    if (err instanceof ConnectorError) throw err;
    throw new ConnectorError({
      code: 'unauthorized',
      retryable: false,
      provider,
      message: `${provider} credentials could not be refreshed: ${err instanceof Error ? err.message : String(err)}`,
      cause: err,
    });
  }
}
