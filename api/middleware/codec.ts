import type { RequestHandler } from 'express';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { SecretBox } from '../../db/secrets';
import type { Tenant } from '../../db/tenant';
import type { Identity, MembershipResolver } from '../../services/memberships';
import type { TokenVerifier } from './auth';
import { apiError } from './errors';

/**
 * Who may use the codec endpoint (POST /codec/decode and /codec/encode), which turns any encrypted
 * Temporal payload back into personal data: an admin, proven by either
 *
 * - `Authorization: Bearer <admin token of this API>`: the Temporal CLI (`--codec-auth`), scripts, and a
 *   Web UI with single sign-on that passes its access token (the UI sends it only to an https endpoint);
 * - the `tourhub_codec` cookie, which `POST /codec/session` sets after checking such a token: the Web UI
 *   without sign-on (`tourhub dev`) cannot send a header, but it sends cookies when its codec setting
 *   "Include cross-origin credentials" is on.
 *
 * Either way the role is the membership's (organization_members), looked up like every /api request:
 * a demoted admin's session stops working within MEMBERSHIP_CACHE_TTL. With CODEC_ADMIN_ORG_ID set,
 * only that organisation's admins (the operators) qualify.
 */

export const CODEC_COOKIE = 'tourhub_codec';
/** A session lasts a working day; after that the operator opens /codec/session again. */
export const CODEC_SESSION_SECONDS = 8 * 3600;
const SESSION_AUDIENCE = 'tourhub-codec-session';
const SESSION_ISSUER = 'tourhub';

/** The browser paths the Web UI calls from its own origin. */
const CROSS_ORIGIN_PATHS = new Set(['/decode', '/encode']);

export interface CodecSessions {
  /** The session cookie's value for this admin. */
  issue(auth: Tenant): Promise<string>;
  /** Whom a session names; their role is looked up again on every use. */
  verify(token: string): Promise<Identity>;
  /** Whether the cookie is Secure (the API is served over https). */
  secure: boolean;
}

/**
 * Sessions are short JWTs signed with a key derived from the active secret key (rotating the key ends
 * them). The cookie is HttpOnly, limited to /codec, SameSite=Strict (the UI and the API must be on the
 * same site: on one machine, both `localhost`), and Secure when the API is served over https.
 */
export function createCodecSessions(box: SecretBox, opts: { secure: boolean }): CodecSessions {
  const key = box.deriveKey('codec-session');
  return {
    secure: opts.secure,
    async issue(auth) {
      return new SignJWT({ org: auth.orgId })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(auth.userId)
        .setIssuer(SESSION_ISSUER)
        .setAudience(SESSION_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + CODEC_SESSION_SECONDS)
        .sign(key);
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, { issuer: SESSION_ISSUER, audience: SESSION_AUDIENCE, algorithms: ['HS256'] });
        if (typeof payload.sub !== 'string' || typeof payload.org !== 'string') throw new Error('claims');
        return { orgId: payload.org, userId: payload.sub, claims: payload };
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw apiError('token_expired', 'The codec session has expired; open /codec/session again');
        throw apiError('invalid_token', 'The codec session is not valid; open /codec/session again');
      }
    },
  };
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * CORS for the Web UI's origins (TEMPORAL_UI_ORIGIN), with credentials, and the headers the UI sends
 * (Content-Type, X-Namespace, and Authorization when it passes a token). A browser on any other origin is
 * refused outright on decode and encode, not merely left unable to read the answer.
 */
export function codecCors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    res.vary('Origin');
    if (origin && allowed.has(origin)) {
      res.set({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true' });
      if (req.method === 'OPTIONS') {
        res.set({
          'Access-Control-Allow-Methods': 'POST, OPTIONS',
          'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-Namespace',
          'Access-Control-Max-Age': '600',
        });
        res.status(204).end();
        return;
      }
    } else if (origin && CROSS_ORIGIN_PATHS.has(req.path)) {
      throw apiError('origin_not_allowed', `Pages on ${origin} may not use the codec endpoint`, { origin, allowed: [...allowed] });
    }
    next();
  };
}

/**
 * Sets req.auth from the bearer token or, without one, the session cookie, with the role the caller's
 * membership gives; the group's requireAdmin does the rest.
 */
export function codecAuthenticate(verifier: TokenVerifier, members: MembershipResolver, sessions: CodecSessions, adminOrgId: string | undefined): RequestHandler {
  return async (req, _res, next) => {
    const header = req.headers.authorization;
    let identity: Identity;
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw apiError('invalid_token', 'Authorization header must be "Bearer <token>"');
      identity = await verifier.verify(match[1]!);
    } else {
      const session = cookie(req.headers.cookie, CODEC_COOKIE);
      if (!session) throw apiError('missing_token', 'Send an admin bearer token, or open /codec/session in this browser first');
      identity = await sessions.verify(session);
    }
    const member = await members.resolve(identity);
    if (!member.ok) throw apiError(member.refusal.code, member.refusal.message, member.refusal.details);
    req.auth = member.value;
    if (adminOrgId && req.auth.role === 'admin' && req.auth.orgId !== adminOrgId) {
      throw apiError('admin_required', "Only the operators' organisation's admins (CODEC_ADMIN_ORG_ID) may use the codec endpoint");
    }
    next();
  };
}
