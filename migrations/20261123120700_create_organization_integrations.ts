import type { Knex } from 'knex';

// Credentials hold ciphertext only (AES-256-GCM with a key id beside it); only admins see the rows.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TYPE integration_type_enum AS ENUM ('crm', 'calendar', 'payment', 'email', 'sms', 'storage', 'analytics');
    CREATE TYPE integration_health_enum AS ENUM ('healthy', 'degraded', 'disabled');

    CREATE TABLE organization_integrations (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      type integration_type_enum NOT NULL,
      provider VARCHAR(50) NOT NULL,
      settings JSONB NOT NULL DEFAULT '{}',
      credentials JSONB NOT NULL DEFAULT '{}',
      is_active BOOLEAN NOT NULL DEFAULT true,
      health integration_health_enum NOT NULL DEFAULT 'healthy',
      last_sync_at TIMESTAMPTZ,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      UNIQUE (organization_id, type, provider)
    );
    CREATE INDEX idx_org_integrations_active ON organization_integrations(organization_id, is_active);

    ALTER TABLE organization_integrations ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_manage_integrations ON organization_integrations
      FOR ALL USING (organization_id = tourhub_org_id() AND tourhub_is_admin())
      WITH CHECK (organization_id = tourhub_org_id() AND tourhub_is_admin());

    GRANT SELECT, INSERT, UPDATE, DELETE ON organization_integrations TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS organization_integrations;
    DROP TYPE IF EXISTS integration_health_enum;
    DROP TYPE IF EXISTS integration_type_enum;
  `);
}
