/**
 * Ids as the system keeps them: UUIDs in lower case. Postgres compares uuids whatever their case, but
 * Temporal workflow ids, idempotency keys and every string comparison do not: `D0000000-…` and
 * `d0000000-…` would be two workflows for one progress row, sending every provider effect twice. So ids
 * are made canonical where they arrive (api/ids.ts: paths, queries, bodies, token claims, CLI arguments),
 * and the builders of workflow ids and idempotency keys assert they were given canonical ones.
 */

const ANY_CASE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a UUID written as the system keeps it: 8-4-4-4-12 hex digits, lower case. */
export function isCanonicalUuid(value: string): boolean {
  return ANY_CASE_UUID.test(value) && value === value.toLowerCase();
}

/** The canonical form of a UUID given in any case; undefined for something that is not a UUID. */
export function canonicalUuidOf(value: string): string | undefined {
  return ANY_CASE_UUID.test(value) ? value.toLowerCase() : undefined;
}

/**
 * Throws when an id is not canonical: a bug in the caller (an id that skipped the edge), caught where a
 * workflow id or an idempotency key is built rather than after it has forked a second workflow.
 */
export function assertCanonicalUuids(where: string, ids: Record<string, string>): void {
  const bad = Object.entries(ids).filter(([, v]) => !isCanonicalUuid(v));
  if (bad.length > 0) {
    throw new Error(`${where}: ${bad.map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ')} must be lower-case UUIDs (canonical at the edge: api/ids.ts)`);
  }
}

/** Throws when a key built from ids has an upper-case letter in it: every id it was built from is lower case. */
export function assertCanonicalKey(where: string, key: string): void {
  if (key !== key.toLowerCase()) throw new Error(`${where}: ${JSON.stringify(key)} has upper-case letters; it must be built from canonical ids`);
}
