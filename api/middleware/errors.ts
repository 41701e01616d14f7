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

export function validationError(error: z.ZodError, where: 'body' | 'query' | 'path'): ApiError {
  return apiError('validation_error', `Invalid request ${where}`, {
    issues: error.issues.map((i) => ({ path: i.path.join('.'), code: i.code, message: i.message })),
  });
}

export function parse<T extends z.ZodType>(schema: T, value: unknown, where: 'body' | 'query' | 'path'): z.infer<T> {
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

/** Bodies must be JSON: a form or text body would otherwise arrive as an empty object and be misread. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json')) {
    next(apiError('unsupported_media_type', 'Send the body as application/json', {
      content_type: req.headers['content-type'] ?? null,
    }));
    return;
  }
  next();
};
