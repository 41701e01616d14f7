import crypto from 'node:crypto';

/**
 * The tour-event signature (`x-wedsync-signature`), modelled on Stripe's: `t=<unix seconds>,v1=<hex>`,
 * where v1 is HMAC-SHA256 over `<t>.<raw body>` with the organisation's signing secret. Several v1
 * entries may be sent (a sender mid-rotation signs with both its secrets); one matching any secret we
 * hold is enough. The timestamp bounds a replay to the tolerance; the event id (stored, unique) stops
 * one within it.
 */

/** Seconds a signature stays acceptable either side of our clock. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type SignatureFailure = 'missing' | 'malformed' | 'timestamp_out_of_tolerance' | 'mismatch' | 'no_secret';

export function tourSignature(secret: string, timestampSeconds: number, rawBody: Buffer | string): string {
  return crypto.createHmac('sha256', secret).update(`${timestampSeconds}.`).update(rawBody).digest('hex');
}

/** The header a sender puts on a request (tests, the docs' example, a sender written in TypeScript). */
export function tourSignatureHeader(secret: string, timestampSeconds: number, rawBody: Buffer | string): string {
  return `t=${timestampSeconds},v1=${tourSignature(secret, timestampSeconds, rawBody)}`;
}

function parseHeader(header: string): { t: number; v1: Buffer[] } | undefined {
  if (header.length > 2000) return undefined;
  let t: number | undefined;
  const v1: Buffer[] = [];
  for (const part of header.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) return undefined;
    const key = part.slice(0, i).trim();
    const value = part.slice(i + 1).trim();
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value)) return undefined;
      t = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return undefined;
      v1.push(Buffer.from(value, 'hex'));
    }
    // Other schemes (v0, a future v2) are ignored, as Stripe's are: they do not weaken v1.
  }
  return t === undefined || v1.length === 0 ? undefined : { t, v1 };
}

/**
 * Checks a request against every secret that may sign now. Constant-time per comparison; the number of
 * comparisons depends only on how many signatures were sent and secrets are held, never on the bytes.
 */
export function verifyTourSignature(
  header: string | undefined,
  rawBody: Buffer,
  secrets: readonly string[],
  nowSeconds: number,
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): { ok: true } | { ok: false; reason: SignatureFailure } {
  if (!header) return { ok: false, reason: 'missing' };
  const parsed = parseHeader(header);
  if (!parsed) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowSeconds - parsed.t) > toleranceSeconds) return { ok: false, reason: 'timestamp_out_of_tolerance' };
  if (secrets.length === 0) return { ok: false, reason: 'no_secret' };
  let matched = false;
  for (const secret of secrets) {
    const expected = Buffer.from(tourSignature(secret, parsed.t, rawBody), 'hex');
    for (const sent of parsed.v1) if (crypto.timingSafeEqual(expected, sent)) matched = true;
  }
  return matched ? { ok: true } : { ok: false, reason: 'mismatch' };
}

/** A token we hand a provider to echo (a Google channel token, a Graph clientState), stored only as this. */
export function tokenHash(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares an echoed token with a stored hash in constant time. */
export function tokenMatches(token: string | undefined, hash: string): boolean {
  if (!token || token.length > 512) return false;
  const a = Buffer.from(tokenHash(token), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
