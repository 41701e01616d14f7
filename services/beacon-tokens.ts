import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Tenant } from '../db/tenant';
import { ok, refuse, type Result } from './result';

/** The key's purpose (HKDF info) and the token's audience: a beacon token opens nothing else. */
export const BEACON_PURPOSE = 'analytics-beacon';

/**
 * How `navigator.sendBeacon` batches authenticate: a beacon cannot set an Authorization header, so the
 * page asks `POST /api/tours/analytics/beacon-token` (with its bearer token) for a short-lived token and
 * puts it in the beacon's body. It is signed with a key derived from the credentials keyring, and it
 * can only add analytics events as its person, in their organisation: reading, moving a tour or any
 * admin action still needs the bearer token, so a beacon token that leaks (bodies are less guarded than
 * headers) is worth little.
 */
export async function signBeaconToken(key: Uint8Array, who: { orgId: string; userId: string }, ttlSeconds: number, now = Date.now()): Promise<{ token: string; expiresAt: Date }> {
  const exp = Math.floor(now / 1000) + ttlSeconds;
  const token = await new SignJWT({ org: who.orgId })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(who.userId)
    .setAudience(BEACON_PURPOSE)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(exp)
    .sign(key);
  return { token, expiresAt: new Date(exp * 1000) };
}

/** The person a beacon token speaks for, as a member: whatever their role, a beacon only records their own events. */
export async function verifyBeaconToken(key: Uint8Array, token: string): Promise<Result<Tenant, 'invalid_beacon_token'>> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, key, { audience: BEACON_PURPOSE, algorithms: ['HS256'] }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) return refuse('invalid_beacon_token', 'The beacon token has expired; ask for a new one', { reason: 'expired' });
    return refuse('invalid_beacon_token', 'The beacon token is not one this API issued', { reason: 'invalid' });
  }
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  if (typeof payload.org !== 'string' || typeof payload.sub !== 'string' || !uuid.test(payload.org) || !uuid.test(payload.sub)) {
    return refuse('invalid_beacon_token', 'The beacon token lacks its organisation or person', { reason: 'invalid' });
  }
  return ok({ orgId: payload.org, userId: payload.sub, role: 'member' });
}
