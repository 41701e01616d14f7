import crypto from 'node:crypto';
import type { Db } from '../db/knex';
import { listSigningSecrets, revokeSigningSecret, rotateSigningSecret, type SigningSecretView } from '../db/repositories/signing-secrets';
import type { SecretBox } from '../db/secrets';
import { withTenant, type Tenant } from '../db/tenant';
import type { TtlCache } from './inbound/ttl-cache';
import { notFound, ok, type Result } from './result';

/** A new tour-event signing secret: 32 random bytes, prefixed so a leaked one is recognisable. */
export function newSigningSecret(): string {
  return `wss_${crypto.randomBytes(32).toString('base64url')}`;
}

/**
 * The secrets an organisation's backend signs tour events with. Making one is a rotation: the secrets
 * it replaces keep working for the grace period (WEBHOOK_SECRET_GRACE unless asked otherwise), so the
 * backend can switch without a window of refused events. The value is returned once and never again.
 * `scope` runs the work in a transaction that may see the organisation's secrets: a tenant transaction
 * (API) or the owner connection (CLI).
 */
export function createSigningSecretService(deps: { db: Db; box: SecretBox; defaultGraceMs: number; verifying?: TtlCache<string[]> }) {
  const rotate = async (scope: (fn: Parameters<typeof withTenant>[2]) => Promise<unknown>, orgId: string, graceMs?: number) =>
    (await scope(async (trx) => {
      const value = newSigningSecret();
      const secret = await rotateSigningSecret(trx, deps.box, { orgId, id: crypto.randomUUID(), value, graceMs: graceMs ?? deps.defaultGraceMs });
      return { secret, value };
    })) as { secret: SigningSecretView; value: string };
  const changed = <T>(orgId: string, result: T): T => {
    deps.verifying?.forget(orgId);
    return result;
  };

  return {
    list: (auth: Tenant) => withTenant(deps.db, auth, (trx) => listSigningSecrets(trx, auth.orgId)),
    rotate: async (auth: Tenant, graceMs?: number) => changed(auth.orgId, await rotate((fn) => withTenant(deps.db, auth, fn), auth.orgId, graceMs)),
    /** The CLI's rotation (`tourhub webhook-secret`): `db` is the owner connection. */
    rotateAsOwner: (orgId: string, graceMs?: number) => rotate((fn) => deps.db.transaction(fn), orgId, graceMs),
    async revoke(auth: Tenant, id: string): Promise<Result<true, 'not_found'>> {
      const done = changed(auth.orgId, await withTenant(deps.db, auth, (trx) => revokeSigningSecret(trx, auth.orgId, id)));
      return done ? ok(true) : notFound('Signing secret', { secret_id: id });
    },
  };
}

export type SigningSecretService = ReturnType<typeof createSigningSecretService>;
