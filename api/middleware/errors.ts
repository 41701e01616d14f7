import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../../db/errors';
import { isTemporalUnavailable } from '../../services/temporal';
import { statusOf, type ErrorCode } from '../error-codes';

/** A failure meant for the client: a stable snake_case code, a message for people, details as data. */
export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly details: Record<string, unknown> = {},
    /** Response fields the failure comes with (Retry-After of a rate limit). */
    public readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** An error for the envelope, its status from the table in api/error-codes.ts. */
export function apiError(code: ErrorCode, message: string, details: Record<string, unknown> = {}, headers: Record<string, string> = {}): ApiError {
  return new ApiError(statusOf(code), code, message, details, headers);
}

/**
 * Seconds a client waits before retrying a 503: an outage of Postgres or Temporal is usually a restart
 * or a failover of seconds, and a short wait spreads the retries of many clients without leaving them idle.
 */
export const OUTAGE_RETRY_AFTER_SECONDS = 2;

export type InputPlace = 'body' | 'query' | 'path' | 'header';

export function validationError(error: z.ZodError, where: InputPlace): ApiError {
  return apiError('validation_error', `Invalid request ${where}`, {
    issues: error.issues.flatMap(specific).map((i) => ({ path: i.path.join('.'), code: i.code, message: i.message })),
  });
}

type Issue = { path: PropertyKey[]; code: string; message: string; errors?: Issue[][] };

/**
 * A value that fits none of a union's shapes (a body that may be one event, a list or a batch) is
 * reported by the shape it came closest to: the fewest problems, then the deepest, so "events.3.event_type:
 * unknown event type" rather than "invalid input".
 */
function specific(issue: Issue): Issue[] {
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return [issue];
  const depth = (issues: Issue[]) => Math.max(...issues.map((i) => i.path.length));
  const best = [...issue.errors].filter((b) => b.length > 0).sort((a, b) => a.length - b.length || depth(b) - depth(a))[0];
  return best ? best.flatMap((i) => specific({ ...i, path: [...issue.path, ...i.path] })) : [issue];
}

export function parse<T extends z.ZodType>(schema: T, value: unknown, where: InputPlace): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, where);
  return result.data;
}

export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(apiError('route_not_found', `No route for ${req.method} ${req.path}`));
};

/** The only place that writes the error envelope `{"error": {"code", "message", "details"}}`. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const error = toApiError(err);
    if (error.code === 'internal_error') logger.error({ err, path: req.path, method: req.method }, 'request failed');
    else if (error.status >= 500) logger.warn({ err: { message: (err as Error)?.message }, code: error.code, path: req.path, method: req.method }, 'request refused: dependency unavailable');
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    if ((error.status === 429 || error.status === 503) && !error.headers['Retry-After']) {
      res.setHeader('Retry-After', String(error.status === 503 ? OUTAGE_RETRY_AFTER_SECONDS : 1));
    }
    res.status(error.status).json({
      error: { code: error.code, message: error.message, details: error.details },
    });
  };
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { type?: string; status?: number; expose?: boolean; limit?: number };
  // body-parser's errors: keep their status, give them our codes.
  if (e?.type === 'entity.parse.failed') return apiError('malformed_json', 'Request body is not valid JSON');
  if (e?.type === 'entity.too.large') {
    return apiError('payload_too_large', 'Request body is too large', { limit_bytes: e.limit });
  }
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return apiError('unsupported_encoding', 'Request body encoding is not supported');
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
    return new ApiError(e.status, 'bad_request', String((err as Error).message));
  }
  // An outage, not a bug: the client retries after Retry-After and nothing it sent was applied twice.
  if (isDatabaseUnavailable(err)) return apiError('database_unavailable', 'The database is unavailable; retry shortly');
  if (isTemporalUnavailable(err)) return apiError('temporal_unavailable', 'The workflow service is unavailable; retry shortly');
  return apiError('internal_error', 'Something went wrong on our side; nothing you sent was lost');
}

/**
 * Bodies must be JSON (or, where an endpoint says so, JSON as text/plain): a form or text body would
 * otherwise arrive as an empty object and be misread.
 */
export function requireBodyType(types: readonly string[]): RequestHandler {
  return (req, _res, next) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !req.is(types as string[])) {
      next(apiError('unsupported_media_type', `Send the body as ${types.join(' or ')}`, {
        content_type: req.headers['content-type'] ?? null,
        accepted: types,
      }));
      return;
    }
    next();
  };
}

/** Where `text/plain` is allowed, the text is JSON all the same (a sendBeacon body): parse it as the JSON parser would. */
export const parseTextAsJson: RequestHandler = (req, _res, next) => {
  if (typeof req.body === 'string') {
    try {
      req.body = req.body.length === 0 ? {} : JSON.parse(req.body);
    } catch {
      next(apiError('malformed_json', 'Request body is not valid JSON'));
      return;
    }
  }
  next();
};
