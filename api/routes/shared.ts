import { z } from 'zod';
import { named } from '../openapi';

// Request schemas are strict everywhere: an unknown field is a client bug worth telling about, not
// something to drop silently. Response schemas are strict too, so the tests that check real responses
// against the document catch a field the document does not name.

/** Every id field of a request or a response: canonical (lower case) whatever case the client sent. */
import { canonicalUuid } from '../ids';

export { canonicalUuid };

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

/**
 * An opaque keyset position: base64url of `{"t": a timestamp to the microsecond (UTC), "i": a row id}`,
 * as the listings newest first hand it out in `next_cursor`.
 */
export const keysetCursor = z
  .string()
  .max(200)
  .transform((raw, ctx) => {
    try {
      const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
      const parsed = z.strictObject({ t: z.iso.datetime({ precision: 6 }), i: canonicalUuid() }).safeParse(value);
      if (parsed.success) return { at: parsed.data.t, id: parsed.data.i };
    } catch {
      // falls through to the issue below
    }
    ctx.addIssue({ code: 'custom', message: 'not a cursor this API returned (use next_cursor as given)' });
    return z.NEVER;
  });

/** The `next_cursor` of a listing: the last row's position and id, as keysetCursor reads them back. */
export function encodeKeyset(position: string, id: string): string {
  return Buffer.from(JSON.stringify({ t: position, i: id })).toString('base64url');
}
