import { z } from 'zod';
import type { OAuthTokens } from '../contracts';
import { ConnectorError } from '../errors';
import { vendorHttp } from '../http';
import type { OutboundGuard } from '../outbound';
import type { RefreshGrant } from '../oauth';

/**
 * The OAuth 2.0 authorization-code flow for the two calendar providers: the consent URL the user is
 * sent to, the code exchange in the callback, and the refresh grant the OAuth session calls.
 * Token endpoints take form-encoded POSTs and answer JSON with `expires_in` in seconds.
 */

export interface AuthorizeUrlInput {
  clientId: string;
  redirectUri: string;
  /** Opaque CSRF/state value checked by the callback. */
  state: string;
  /**
   * PKCE (RFC 7636): base64url(SHA-256(code verifier)), sent with `code_challenge_method=S256`. A code
   * stolen on its way back is useless without the verifier, which only the token exchange carries.
   */
  codeChallenge: string;
  /** Microsoft only: tenant id or domain, or 'common' / 'organizations' / 'consumers'. Default 'common'. */
  tenant?: string;
}

export interface TokenEndpointInput {
  clientId: string;
  clientSecret: string;
  /** Microsoft only (see AuthorizeUrlInput.tenant). */
  tenant?: string;
  /** Overrides the provider's token endpoint (tests, sandboxes). */
  tokenUrl?: string;
  timeoutMs: number;
  /** The deployment's outbound rules: the token endpoint is reached through the guarded HTTP layer. */
  guard: OutboundGuard;
  /** Epoch milliseconds; turns `expires_in` into `expiresAt`. */
  now: () => number;
}

export interface ExchangeCodeInput extends TokenEndpointInput {
  code: string;
  redirectUri: string;
  /** PKCE: the verifier whose challenge the consent URL carried. */
  codeVerifier: string;
}

export interface OAuthProvider {
  /** Scopes requested at consent, space-separated as sent. */
  readonly scope: string;
  authorizeUrl(input: AuthorizeUrlInput): string;
  exchangeCode(input: ExchangeCodeInput): Promise<OAuthTokens>;
  refreshGrant(input: TokenEndpointInput): RefreshGrant;
}

const tokenResponse = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.coerce.number().positive().optional(),
  scope: z.string().optional(),
});

/** The identity platforms' token hosts: our client secret and the users' refresh tokens go nowhere else. */
const TOKEN_HOSTS = ['oauth2.googleapis.com', 'login.microsoftonline.com'];

async function requestTokens(provider: string, url: string, form: Record<string, string>, input: TokenEndpointInput): Promise<OAuthTokens> {
  const http = vendorHttp({ provider, hosts: TOKEN_HOSTS, guard: input.guard, timeoutMs: input.timeoutMs, ...(input.tokenUrl ? { baseUrl: input.tokenUrl } : {}) }).client({ baseUrl: url });
  const res = await http.request({ method: 'POST', path: url, form });
  const parsed = tokenResponse.safeParse(res.body);
  if (!parsed.success) {
    throw new ConnectorError({ code: 'unexpected_response', retryable: false, provider, status: res.status, message: `${provider} token endpoint answered without an access token` });
  }
  const body = parsed.data;
  return {
    accessToken: body.access_token,
    ...(body.refresh_token !== undefined ? { refreshToken: body.refresh_token } : {}),
    ...(body.expires_in !== undefined ? { expiresAt: input.now() + Math.round(body.expires_in * 1000) } : {}),
    ...(body.scope !== undefined ? { scope: body.scope } : {}),
  };
}

const GOOGLE_AUTHORIZE = 'https://accounts.google.com/o/oauth2/v2/auth';
const GOOGLE_TOKEN = 'https://oauth2.googleapis.com/token';
/** Create, change and delete events on the user's calendars; nothing else. */
const GOOGLE_SCOPE = 'https://www.googleapis.com/auth/calendar.events';

/**
 * Google's web-server flow. `access_type=offline` asks for a refresh token and `prompt=consent` makes
 * Google issue one again when the user reconnects (it is otherwise sent on the first consent only).
 * Refresh responses usually omit the refresh token; the session keeps the old one.
 */
export const googleOAuth: OAuthProvider = {
  scope: GOOGLE_SCOPE,

  authorizeUrl({ clientId, redirectUri, state, codeChallenge }) {
    const url = new URL(GOOGLE_AUTHORIZE);
    url.search = new URLSearchParams({
      client_id: clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: GOOGLE_SCOPE,
      access_type: 'offline',
      prompt: 'consent',
      include_granted_scopes: 'true',
      state,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
    }).toString();
    return url.toString();
  },

  exchangeCode(input) {
    return requestTokens(
      'google-oauth',
      input.tokenUrl ?? GOOGLE_TOKEN,
      {
        grant_type: 'authorization_code',
        code: input.code,
        redirect_uri: input.redirectUri,
        client_id: input.clientId,
        client_secret: input.clientSecret,
        code_verifier: input.codeVerifier,
      },
      input,
    );
  },

  refreshGrant(input) {
    return (refreshToken) =>
      requestTokens(
        'google-oauth',
        input.tokenUrl ?? GOOGLE_TOKEN,
        { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: input.clientId, client_secret: input.clientSecret },
        input,
      );
  },
};

/** Delegated Graph permission plus `offline_access`, without which no refresh token is issued. */
const MICROSOFT_SCOPE = 'offline_access https://graph.microsoft.com/Calendars.ReadWrite';

function microsoftEndpoint(tenant: string | undefined, leg: 'authorize' | 'token'): string {
  return `https://login.microsoftonline.com/${encodeURIComponent(tenant ?? 'common')}/oauth2/v2.0/${leg}`;
}

/**
 * The Microsoft identity platform's authorization-code flow (v2.0 endpoints), for work, school and
 * personal accounts with tenant 'common'. Refresh tokens rotate: each refresh returns a new one, which
 * the session stores in place of the old.
 */
export const microsoftOAuth: OAuthProvider = {
  scope: MICROSOFT_SCOPE,

  authorizeUrl({ clientId, redirectUri, state, tenant, codeChallenge }) {
    const url = new URL(microsoftEndpoint(tenant, 'authorize'));
    url.search = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      response_mode: 'query',
      scope: MICROSOFT_SCOPE,
      state,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
    }).toString();
    return url.toString();
  },

  exchangeCode(input) {
    return requestTokens(
      'microsoft-identity',
      input.tokenUrl ?? microsoftEndpoint(input.tenant, 'token'),
      {
        grant_type: 'authorization_code',
        code: input.code,
        redirect_uri: input.redirectUri,
        client_id: input.clientId,
        client_secret: input.clientSecret,
        scope: MICROSOFT_SCOPE,
        code_verifier: input.codeVerifier,
      },
      input,
    );
  },

  refreshGrant(input) {
    return (refreshToken) =>
      requestTokens(
        'microsoft-identity',
        input.tokenUrl ?? microsoftEndpoint(input.tenant, 'token'),
        { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: input.clientId, client_secret: input.clientSecret, scope: MICROSOFT_SCOPE },
        input,
      );
  },
};
