import crypto from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { ok, refuse, type Result } from './result';

const PURPOSE = 'oauth-state';
const TTL_SECONDS = 10 * 60;

export interface OAuthState {
  orgId: string;
  userId: string;
  provider: string;
}

/**
 * The `state` parameter of an OAuth consent: signed with a key derived from the credentials keyring,
 * bound to the organisation, the admin and the provider, and valid for ten minutes.
 */
export async function signOAuthState(key: Uint8Array, state: OAuthState, now = Date.now()): Promise<string> {
  return new SignJWT({ org: state.orgId, provider: state.provider, nonce: crypto.randomUUID() })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(state.userId)
    .setAudience(PURPOSE)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor(now / 1000) + TTL_SECONDS)
    .sign(key);
}

export async function verifyOAuthState(key: Uint8Array, token: string, provider: string): Promise<Result<OAuthState, 'invalid_oauth_state'>> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, key, { audience: PURPOSE, algorithms: ['HS256'] }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) return refuse('invalid_oauth_state', 'This consent link has expired; start connecting again');
    return refuse('invalid_oauth_state', 'The OAuth state is not one we issued');
  }
  if (payload.provider !== provider || typeof payload.org !== 'string' || typeof payload.sub !== 'string') {
    return refuse('invalid_oauth_state', 'This consent was started for another provider');
  }
  return ok({ orgId: payload.org, userId: payload.sub, provider });
}
