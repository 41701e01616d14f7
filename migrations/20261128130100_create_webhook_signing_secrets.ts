import type { Knex } from 'knex';

// The secrets an organisation's backend signs tour events with (x-wedsync-signature). Sealed like
// credentials (AES-256-GCM, key id beside the ciphertext); the value is shown once, when made.
// A secret replaced by a newer one keeps working until expires_at (the rotation's grace period);
// expires_at is null for the current one. Admins manage them; a receiver transaction (app.role
// 'webhook') of the same organisation reads them to check a signature.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE webhook_signing_secrets (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      sealed_secret JSONB NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      expires_at TIMESTAMPTZ,
      CHECK (expires_at IS NULL OR expires_at >= created_at)
    );
    CREATE INDEX idx_signing_secrets_org ON webhook_signing_secrets(organization_id, created_at DESC);

    ALTER TABLE webhook_signing_secrets ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_manage_signing_secrets ON webhook_signing_secrets
      FOR ALL USING (organization_id = tourhub_org_id() AND tourhub_is_admin())
      WITH CHECK (organization_id = tourhub_org_id() AND tourhub_is_admin());
    CREATE POLICY receivers_read_signing_secrets ON webhook_signing_secrets
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_receiver());
    GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_signing_secrets TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS webhook_signing_secrets;`);
}
