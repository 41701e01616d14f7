import crypto from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { canonicalUuidOf } from '../domain/ids';
import { ok, refuse, type Result } from './result';

const PURPOSE = 'oauth-state';
/** How long an admin has at the consent screen; the binding cookie and the stored consent live as long. */
export const OAUTH_STATE_TTL_SECONDS = 10 * 60;

export interface OAuthState {
  orgId: string;
  userId: string;
  provider: string;
  /** The stored consent this state names (oauth_states.id): what makes it single-use. */
  nonce: string;
}

/**
 * The `state` parameter of an OAuth consent: signed with a key derived from the credentials keyring,
 * naming the organisation, the admin, the provider and the stored consent, valid for ten minutes. The
 * signature lets the callback turn away a forged state before it touches the database; the stored
 * consent (services/oauth.ts) is what makes it single-use and bound to the admin's browser.
 */
export async function signOAuthState(key: Uint8Array, state: OAuthState, now = Date.now()): Promise<string> {
  return new SignJWT({ org: state.orgId, provider: state.provider })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(state.userId)
    .setJti(state.nonce)
    .setAudience(PURPOSE)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor(now / 1000) + OAUTH_STATE_TTL_SECONDS)
    .sign(key);
}

export async function verifyOAuthState(key: Uint8Array, token: string, provider: string): Promise<Result<OAuthState, 'invalid_oauth_state'>> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, key, { audience: PURPOSE, algorithms: ['HS256'], requiredClaims: ['exp', 'jti'] }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) return refuse('invalid_oauth_state', 'This consent link has expired; start connecting again', { reason: 'expired' });
    return refuse('invalid_oauth_state', 'The OAuth state is not one we issued', { reason: 'unknown' });
  }
  const orgId = typeof payload.org === 'string' ? canonicalUuidOf(payload.org) : undefined;
  const userId = typeof payload.sub === 'string' ? canonicalUuidOf(payload.sub) : undefined;
  const nonce = typeof payload.jti === 'string' ? canonicalUuidOf(payload.jti) : undefined;
  if (payload.provider !== provider) return refuse('invalid_oauth_state', 'This consent was started for another provider', { reason: 'other_provider' });
  if (!orgId || !userId || !nonce) return refuse('invalid_oauth_state', 'The OAuth state is not one we issued', { reason: 'unknown' });
  return ok({ orgId, userId, provider, nonce });
}

/** A fresh consent's secrets: the stored consent's id, the browser-binding cookie value, and the PKCE pair (RFC 7636, S256). */
export function newConsentSecrets() {
  const codeVerifier = crypto.randomBytes(32).toString('base64url');
  return {
    nonce: crypto.randomUUID(),
    browserBinding: crypto.randomBytes(32).toString('base64url'),
    codeVerifier,
    codeChallenge: s256Challenge(codeVerifier),
  };
}

/** PKCE's S256 method: base64url(SHA-256(ASCII(verifier))), RFC 7636 section 4.2. */
export function s256Challenge(codeVerifier: string): string {
  return crypto.createHash('sha256').update(codeVerifier, 'ascii').digest('base64url');
}

/** What is stored of the browser-binding cookie: its hash, so a database reader cannot replay it. */
export function browserHash(binding: string): string {
  return crypto.createHash('sha256').update(binding).digest('hex');
}
