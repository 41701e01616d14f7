import type { RequestHandler } from 'express';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Tenant } from '../../db/tenant';
import { apiError } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    auth?: Tenant;
  }
}

const claimsSchema = z.object({
  sub: z.uuid(),
  org: z.uuid(),
  role: z.enum(['admin', 'member']).default('member'),
});

export interface AuthOptions {
  /** HS256 secret (development and single-tenant deployments). */
  secret?: string;
  /** JWKS URL of the identity provider (production). */
  jwksUrl?: string;
  issuer: string;
  audience: string;
}

export interface TokenVerifier {
  verify(token: string): Promise<Tenant>;
}

export function createTokenVerifier(opts: AuthOptions): TokenVerifier {
  const key: Uint8Array | JWTVerifyGetKey = opts.jwksUrl
    ? createRemoteJWKSet(new URL(opts.jwksUrl), { timeoutDuration: 5000 })
    : new TextEncoder().encode(requireSecret(opts.secret));
  return {
    async verify(token) {
      let payload: unknown;
      try {
        const verified =
          key instanceof Uint8Array
            ? await jwtVerify(token, key, { issuer: opts.issuer, audience: opts.audience, algorithms: ['HS256'] })
            : await jwtVerify(token, key, { issuer: opts.issuer, audience: opts.audience });
        payload = verified.payload;
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw apiError('token_expired', 'Your token has expired; sign in again');
        if (err instanceof joseErrors.JWKSTimeout) throw apiError('auth_unavailable', 'Could not reach the identity provider');
        throw apiError('invalid_token', 'Token is not valid for this API', {
          reason: err instanceof joseErrors.JOSEError ? err.code : 'unparseable',
        });
      }
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) {
        throw apiError('invalid_token', 'Token lacks the org, sub or role claims this API needs', {
          claims: claims.error.issues.map((i) => i.path.join('.')),
        });
      }
      return { orgId: claims.data.org, userId: claims.data.sub, role: claims.data.role };
    },
  };
}

function requireSecret(secret: string | undefined): string {
  if (!secret) throw new Error('JWT secret is not configured');
  return secret;
}

export function authenticate(verifier: TokenVerifier): RequestHandler {
  return async (req, _res, next) => {
    const header = req.headers.authorization;
    if (!header) throw apiError('missing_token', 'Send a bearer token in the Authorization header');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw apiError('invalid_token', 'Authorization header must be "Bearer <token>"');
    req.auth = await verifier.verify(match[1]!);
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
  claims: { orgId: string; userId: string; role: 'admin' | 'member' },
  ttlSeconds = 12 * 3600,
): Promise<string> {
  return new SignJWT({ org: claims.orgId, role: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(opts.issuer)
    .setAudience(opts.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(opts.secret));
}
