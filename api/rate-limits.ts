/**
 * Per-user request limits on the writes a person makes (progress moves, tour starts), counted in
 * Postgres so every API process shares one count (rate-limiter-flexible's RateLimiterPostgres on the
 * API's own pool; its table comes from a migration, since the API's role creates nothing). Answers carry
 * the IETF draft's `RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers-11),
 * and a refusal is 429 `rate_limited` with `Retry-After`.
 */
import type { RequestHandler } from 'express';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { Db } from '../db/knex';
import type { Tenant } from '../db/tenant';
import { apiError } from './middleware/errors';

/** The limits an endpoint can be under; each has its own count per user. */
export const RATE_LIMIT_POLICIES = ['progress', 'start'] as const;
export type RateLimitPolicy = (typeof RATE_LIMIT_POLICIES)[number];

export interface RateLimitSettings {
  /** Requests one user may make per minute, per policy; 0 is no limit (nothing counted, no fields). */
  perMinute: Record<RateLimitPolicy, number>;
}

/** The table the migration 20261201120200_create_api_rate_limits creates. */
export const RATE_LIMIT_TABLE = 'api_rate_limits';
const WINDOW_SECONDS = 60;

export interface RateLimiters {
  /** Express middleware for one policy: counts the request, sets the fields, refuses past the limit. */
  middleware(policy: RateLimitPolicy): RequestHandler;
}

/**
 * One Postgres-backed limiter per policy. While Postgres is unreachable each process counts in memory
 * (the library's insurance limiter), so an outage neither lifts the limits nor turns every move into an
 * error. A user past the limit is also remembered in memory until the window ends, so a client hammering
 * the API costs no query per refused request. A request the server fails (5xx) gives its point back: a
 * client retrying through an outage is not locked out by our own failures.
 */
export function createRateLimiters(db: Db, settings: RateLimitSettings): RateLimiters {
  const limiters = Object.fromEntries(
    RATE_LIMIT_POLICIES.filter((policy) => settings.perMinute[policy] > 0).map((policy) => {
      const points = settings.perMinute[policy];
      const limiter = new RateLimiterPostgres({
        storeClient: db,
        storeType: 'knex',
        tableName: RATE_LIMIT_TABLE,
        tableCreated: true,
        keyPrefix: policy,
        points,
        duration: WINDOW_SECONDS,
        inMemoryBlockOnConsumed: points + 1,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: policy, points, duration: WINDOW_SECONDS }),
      });
      return [policy, { limiter, points }];
    }),
  ) as Partial<Record<RateLimitPolicy, { limiter: RateLimiterPostgres; points: number }>>;

  return {
    middleware(policy) {
      if (!limiters[policy]) return (_req, _res, next) => next();
      const { limiter, points } = limiters[policy];
      const policyField = `"${policy}";q=${points};w=${WINDOW_SECONDS}`;
      return async (req, res, next) => {
        const auth = req.auth as Tenant;
        const key = `${auth.orgId}:${auth.userId}`;
        let outcome: RateLimiterRes;
        let allowed: boolean;
        try {
          outcome = await limiter.consume(key);
          allowed = true;
        } catch (err) {
          if (!(err instanceof RateLimiterRes)) {
            next(err);
            return;
          }
          outcome = err;
          allowed = false;
        }
        const resetSeconds = Math.max(0, Math.ceil(outcome.msBeforeNext / 1000));
        res.setHeader('RateLimit-Policy', policyField);
        res.setHeader('RateLimit', `"${policy}";r=${Math.max(0, outcome.remainingPoints)};t=${resetSeconds}`);
        if (!allowed) {
          const retryAfter = Math.max(1, resetSeconds);
          next(
            apiError('rate_limited', `At most ${points} ${policy === 'progress' ? 'progress updates' : 'tour starts'} a minute per user; retry after ${retryAfter} s`, {
              policy,
              limit: points,
              window_seconds: WINDOW_SECONDS,
              retry_after_seconds: retryAfter,
            }, { 'Retry-After': String(retryAfter) }),
          );
          return;
        }
        res.once('finish', () => {
          if (res.statusCode >= 500) limiter.reward(key, 1).catch(() => undefined);
        });
        next();
      };
    },
  };
}
