import type { Knex } from 'knex';
import type { SealedSecret, SecretBox } from '../secrets';

/** A tour-event signing secret as stored: the value sealed, never listed. */
export interface SigningSecretRow {
  id: string;
  organization_id: string;
  sealed_secret: SealedSecret;
  created_at: Date;
  expires_at: Date | null;
}

export type SigningSecretView = Omit<SigningSecretRow, 'sealed_secret'>;

/** Binds a sealed value to its row: copied into another organisation's row, it does not open. */
export function signingSecretAad(row: { id: string; organization_id: string }): string {
  return `webhook_signing_secrets:${row.organization_id}:${row.id}`;
}

/** Newest first, without the values. `db` is a tenant transaction (admins) or the owner connection with `orgId`. */
export async function listSigningSecrets(db: Knex, orgId: string): Promise<SigningSecretView[]> {
  return db('webhook_signing_secrets')
    .select('id', 'organization_id', 'created_at', 'expires_at')
    .where({ organization_id: orgId })
    .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]);
}

/**
 * Adds a new current secret; the one it replaces (and any other still current) keeps working for
 * `graceMs`, those already expiring keep their own end (a rotation never extends an old secret).
 */
export async function rotateSigningSecret(
  trx: Knex.Transaction,
  box: SecretBox,
  input: { orgId: string; id: string; value: string; graceMs: number },
): Promise<SigningSecretView> {
  await trx('webhook_signing_secrets')
    .where({ organization_id: input.orgId })
    .whereNull('expires_at')
    .update({ expires_at: trx.raw(`now() + (? * interval '1 millisecond')`, [input.graceMs]) });
  const sealed = box.seal(input.value, signingSecretAad({ id: input.id, organization_id: input.orgId }));
  const [row] = await trx('webhook_signing_secrets')
    .insert({ id: input.id, organization_id: input.orgId, sealed_secret: JSON.stringify(sealed) })
    .returning(['id', 'organization_id', 'created_at', 'expires_at']);
  return row as SigningSecretView;
}

/** Ends a secret now. False when the organisation has no such secret. */
export async function revokeSigningSecret(db: Knex, orgId: string, id: string): Promise<boolean> {
  const n = await db('webhook_signing_secrets')
    .where({ organization_id: orgId, id })
    .update({ expires_at: db.raw('greatest(created_at, least(coalesce(expires_at, now()), now()))') });
  return n > 0;
}

/** The values that may sign a request now (current, and replaced ones within their grace period). */
export async function openValidSigningSecrets(db: Knex, box: SecretBox, orgId: string): Promise<string[]> {
  const rows: SigningSecretRow[] = await db('webhook_signing_secrets')
    .select('id', 'organization_id', 'sealed_secret')
    .where({ organization_id: orgId })
    .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', db.fn.now()))
    .orderBy('created_at', 'desc');
  return rows.map((r) => box.open<string>(r.sealed_secret, signingSecretAad(r)));
}
