import { z } from 'zod';
import { named } from '../openapi';

// Request schemas are strict everywhere: an unknown field is a client bug worth telling about, not
// something to drop silently. Response schemas are strict too, so the tests that check real responses
// against the document catch a field the document does not name.

/** Every id field of a request or a response: canonical (lower case) whatever case the client sent. */
export { canonicalUuid } from '../ids';

/** `?limit=` as a whole number in 1..max (query strings are text). */
export const limitQuery = (max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .default(fallback);

/** A point in time as JSON carries it: ISO 8601 in UTC. */
export const timestamp = z.iso.datetime();

/** What a Date from Postgres becomes in a response (what JSON.stringify would make of it, typed). */
export function iso(date: Date): string;
export function iso(date: Date | null): string | null;
export function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

/** JSON an owner defines (step content, conditions, a notification's payload): an object, its keys theirs. */
export const jsonObject = z.record(z.string(), z.unknown());

export const ErrorEnvelope = named(
  'Error',
  z.strictObject({
    error: z.strictObject({
      code: z.string().describe('Stable, snake_case: what went wrong, for programs'),
      message: z.string().describe('What went wrong, for people'),
      details: jsonObject.describe('Data about it: the fields that failed, the current progress, the known providers'),
    }),
  }),
);
