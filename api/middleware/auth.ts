import type { RequestHandler } from 'express';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Tenant } from '../../db/tenant';
import type { Identity, MembershipResolver } from '../../services/memberships';
import { canonicalUuid } from '../ids';
import { apiError } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    auth?: Tenant;
  }
}

/**
 * What a token must say: who (`sub`) and in which organisation (`org`), both canonical whatever case the
 * identity provider wrote them in. A `role` claim, if any, is ignored: roles come from membership.
 */
const claimsSchema = z.object({ sub: canonicalUuid(), org: canonicalUuid() });

/** The only algorithm a shared secret verifies. */
export const SECRET_ALGORITHMS = ['HS256'];
/**
 * The algorithms a JWKS key may sign with: asymmetric only, so a key set can never be fed a token
 * "signed" with a public key as an HMAC secret, nor one with `alg: none`.
 */
export const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

export interface AuthOptions {
  /** HS256 secret (development and single-tenant deployments). */
  secret?: string;
  /** JWKS URL of the identity provider (production); https there (config/index.ts refuses http). */
  jwksUrl?: string;
  issuer: string;
  audience: string;
}

export interface TokenVerifier {
  /** The identity the token names; membership (and so the role) is looked up separately. */
  verify(token: string): Promise<Identity>;
}

export function createTokenVerifier(opts: AuthOptions): TokenVerifier {
  const key: Uint8Array | JWTVerifyGetKey = opts.jwksUrl
    ? createRemoteJWKSet(new URL(opts.jwksUrl), { timeoutDuration: 5000 })
    : new TextEncoder().encode(requireSecret(opts.secret));
  // A token without `exp` would never expire: it is refused on every path.
  const checks = { issuer: opts.issuer, audience: opts.audience, requiredClaims: ['exp'] };
  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        const verified =
          key instanceof Uint8Array
            ? await jwtVerify(token, key, { ...checks, algorithms: SECRET_ALGORITHMS })
            : await jwtVerify(token, key, { ...checks, algorithms: JWKS_ALGORITHMS });
        payload = verified.payload;
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw apiError('token_expired', 'Your token has expired; sign in again');
        if (err instanceof joseErrors.JWKSTimeout) throw apiError('auth_unavailable', 'Could not reach the identity provider');
        throw apiError('invalid_token', 'Token is not valid for this API', {
          reason: err instanceof joseErrors.JOSEError ? err.code : 'unparseable',
          ...(err instanceof joseErrors.JWTClaimValidationFailed ? { claim: err.claim } : {}),
        });
      }
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) {
        throw apiError('invalid_token', 'Token lacks the sub or org claims this API needs, as UUIDs', {
          claims: claims.error.issues.map((i) => i.path.join('.')),
        });
      }
      return { orgId: claims.data.org, userId: claims.data.sub, claims: payload };
    },
  };
}

function requireSecret(secret: string | undefined): string {
  if (!secret) throw new Error('JWT secret is not configured');
  return secret;
}

/**
 * Verifies the bearer token, then looks the caller up in the organisation's members: `req.auth` carries
 * the role membership gives, and a token for someone who is not a member is refused (403 not_a_member).
 */
export function authenticate(verifier: TokenVerifier, members: MembershipResolver): RequestHandler {
  return async (req, _res, next) => {
    const header = req.headers.authorization;
    if (!header) throw apiError('missing_token', 'Send a bearer token in the Authorization header');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw apiError('invalid_token', 'Authorization header must be "Bearer <token>"');
    const member = await members.resolve(await verifier.verify(match[1]!));
    if (!member.ok) throw apiError(member.refusal.code, member.refusal.message, member.refusal.details);
    req.auth = member.value;
    next();
  };
}

export function requireAdmin(): RequestHandler {
  return (req, _res, next) => {
    if (req.auth?.role !== 'admin') throw apiError('admin_required', 'Only organisation admins can do this');
    next();
  };
}

/** Mints a development token: the `tourhub token` command and the tests use it. */
export async function signToken(
  opts: { secret: string; issuer: string; audience: string },
  claims: { orgId: string; userId: string },
  ttlSeconds = 12 * 3600,
): Promise<string> {
  // No role claim: the API reads the role from the organisation's members.
  return new SignJWT({ org: claims.orgId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(opts.issuer)
    .setAudience(opts.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(opts.secret));
}
