import type { Knex } from 'knex';

// A replay claims its dead delivery with a conditional update (dead -> pending) in the transaction that
// starts it, so two admins (or the API and `tourhub replay`) racing on one delivery start one replay and
// the other is refused. The API runs as tourhub_app: it may change only the status columns, and only
// of its own organisation's deliveries, as an admin.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    GRANT UPDATE (status, last_error, updated_at) ON integration_deliveries TO tourhub_app;
    CREATE POLICY admins_claim_replays ON integration_deliveries
      FOR UPDATE USING (organization_id = tourhub_org_id() AND tourhub_is_admin())
      WITH CHECK (organization_id = tourhub_org_id() AND tourhub_is_admin());
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP POLICY IF EXISTS admins_claim_replays ON integration_deliveries;
    REVOKE UPDATE (status, last_error, updated_at) ON integration_deliveries FROM tourhub_app;
  `);
}
