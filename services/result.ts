/**
 * What a service answers: a value, or a refusal with a stable snake_case code, a message for people and
 * details as data. A refusal is an expected outcome (not found, already delivered, a move the tour does
 * not allow), never an exception: the API maps its code to an HTTP status in one table
 * (api/error-codes.ts) and the CLI prints it. Services throw only for what nobody can act on: a bug,
 * which the API answers with 500, or an outage (Postgres or Temporal unreachable), which it answers
 * with 503 and Retry-After (api/middleware/errors.ts tells them apart).
 */
export interface Refusal<Code extends string = string> {
  code: Code;
  message: string;
  details: Record<string, unknown>;
}

export type Result<T, Code extends string = string> = { ok: true; value: T } | { ok: false; refusal: Refusal<Code> };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function refuse<Code extends string>(code: Code, message: string, details: Record<string, unknown> = {}): { ok: false; refusal: Refusal<Code> } {
  return { ok: false, refusal: { code, message, details } };
}

/** Also what another organisation's row looks like: row-level security makes it simply not there. */
export function notFound(what: string, details: Record<string, unknown> = {}): { ok: false; refusal: Refusal<'not_found'> } {
  return refuse('not_found', `${what} not found`, details);
}
