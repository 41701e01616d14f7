import type { Knex } from 'knex';

/**
 * Runs `fn` in a transaction as an inbound webhook receiver of one organisation: app.role 'webhook' and
 * app.org_id set, no user. The RLS policies named receivers_* (migrations/20261128130000 and after) let
 * such a transaction read what verifying an inbound event needs (its signing secrets, the integration's
 * sealed credentials, a push channel's token hash) and record the event, in that organisation only.
 * The organisation comes from a path id or a signed body: nothing here is proof, the signature check is.
 */
export async function withReceiverScope<T>(db: Knex, orgId: string, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return db.transaction(async (trx) => {
    await trx.raw(`select set_config('app.org_id', ?, true), set_config('app.user_id', '', true), set_config('app.role', 'webhook', true)`, [orgId]);
    return fn(trx);
  });
}

/** Whose integration a path id names, or undefined: the one question asked before there is an organisation. */
export async function integrationOrg(db: Knex, integrationId: string): Promise<string | undefined> {
  const { rows } = await db.raw<{ rows: { org: string | null }[] }>('select tourhub_integration_org(?) as org', [integrationId]);
  return rows[0]?.org ?? undefined;
}
