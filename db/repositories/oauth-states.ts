import type { Knex } from 'knex';

export interface NewOAuthState {
  id: string;
  orgId: string;
  userId: string;
  provider: string;
  /** sha256 (hex) of the browser-binding cookie's value: the cookie itself is never stored. */
  browserHash: string;
  codeVerifier: string;
  ttlSeconds: number;
}

/** Records a consent started; the starter's expired consents go with it, so the table stays small. */
export async function insertOAuthState(db: Knex, s: NewOAuthState): Promise<void> {
  await db('oauth_states').where({ organization_id: s.orgId, user_id: s.userId }).andWhere('expires_at', '<', db.fn.now()).delete();
  await db('oauth_states').insert({
    id: s.id,
    organization_id: s.orgId,
    user_id: s.userId,
    provider: s.provider,
    browser_hash: s.browserHash,
    code_verifier: s.codeVerifier,
    expires_at: db.raw(`now() + make_interval(secs => ?)`, [s.ttlSeconds]),
  });
}

export type ConsumeFailure = 'unknown' | 'already_used' | 'expired' | 'browser_mismatch';

/**
 * Consumes the consent in one statement (only an unused, unexpired state of this provider whose
 * browser matches is marked used and answered), so two callbacks racing with one state cannot both
 * win. A refused state is left as it was, and the reason is read back for the message.
 */
export async function consumeOAuthState(
  db: Knex,
  q: { id: string; provider: string; browserHash: string },
): Promise<{ ok: true; codeVerifier: string } | { ok: false; reason: ConsumeFailure }> {
  const [row] = (await db('oauth_states')
    .update({ consumed_at: db.fn.now() })
    .where({ id: q.id, provider: q.provider, browser_hash: q.browserHash })
    .whereNull('consumed_at')
    .andWhere('expires_at', '>', db.fn.now())
    .returning('code_verifier')) as { code_verifier: string }[];
  if (row) return { ok: true, codeVerifier: row.code_verifier };
  const found = (await db('oauth_states')
    .select('consumed_at', 'browser_hash', db.raw('expires_at <= now() as expired'))
    .where({ id: q.id, provider: q.provider })
    .first()) as { consumed_at: Date | null; browser_hash: string; expired: boolean } | undefined;
  if (!found) return { ok: false, reason: 'unknown' };
  if (found.consumed_at) return { ok: false, reason: 'already_used' };
  if (found.browser_hash !== q.browserHash) return { ok: false, reason: 'browser_mismatch' };
  return { ok: false, reason: 'expired' };
}
