/**
 * A small per-process cache of what verifying an inbound webhook needs (an organisation's signing
 * secrets, an integration's row), so a burst of webhooks is not a burst of identical queries. Entries
 * live `ttlMs`; a caller whose check fails against a cached value reads afresh once before refusing, so
 * a secret made a moment ago works at once. A revoked or replaced secret stops working within `ttlMs`.
 */
export function ttlCache<V>(ttlMs: number, maxEntries = 10_000) {
  const entries = new Map<string, { value: V; at: number }>();
  return {
    /**
     * The cached value, or `load()`'s. `fresh` reloads, but not more than once a second per key: a
     * stream of forged signatures must not become a stream of queries.
     */
    async get(key: string, load: () => Promise<V>, opts: { fresh?: boolean } = {}): Promise<V> {
      const hit = entries.get(key);
      const age = hit ? Date.now() - hit.at : Infinity;
      if (hit && (opts.fresh ? age < 1_000 : age < ttlMs)) return hit.value;
      const value = await load();
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key, { value, at: Date.now() });
      return value;
    },
    /** Forgets `key`: this process changed it (a rotation, a revocation). */
    forget(key: string): void {
      entries.delete(key);
    },
  };
}

/** How long verification material is reused: a revoked secret is refused by every API process within this. */
export const VERIFICATION_CACHE_MS = 5_000;

export type TtlCache<V> = ReturnType<typeof ttlCache<V>>;
