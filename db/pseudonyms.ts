import crypto from 'node:crypto';
import type { SecretBox } from './secrets';

/**
 * The pseudonym a person's analytics are kept under once the raw events are gone: HMAC-SHA256 of
 * "{organisation}:{user}" (ids in lower case) under a key the database never sees. It cannot be turned
 * back into a user id; with the key, one person's rows can be found (an export, an erasure), and
 * without it nobody can tell whose they are.
 */
export function pseudonymise(key: Uint8Array, orgId: string, userId: string): Buffer {
  return crypto.createHmac('sha256', key).update(`${orgId.toLowerCase()}:${userId.toLowerCase()}`).digest();
}

/**
 * ANALYTICS_PSEUDONYM_KEY when set; otherwise a key derived from the keyring's active key. The
 * derived key changes when the active key rotates, after which the same person gets a new pseudonym
 * (and an erasure no longer finds the rows made under the old one): set the variable in production.
 */
export function pseudonymKey(configured: Buffer | undefined, box: SecretBox): Uint8Array {
  return configured ? new Uint8Array(configured) : box.deriveKey('analytics-pseudonym');
}
