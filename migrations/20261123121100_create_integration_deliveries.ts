import type { Knex } from 'knex';

// One row per (tour event, route): its idempotency key never changes across retries and replays,
// and a dead row is what an operator replays.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TYPE delivery_status_enum AS ENUM ('pending', 'succeeded', 'failed', 'dead');

    CREATE TABLE integration_deliveries (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      integration_id UUID NOT NULL REFERENCES organization_integrations(id) ON DELETE CASCADE,
      event_id VARCHAR(300) NOT NULL,
      event_type VARCHAR(50) NOT NULL,
      action VARCHAR(100) NOT NULL,
      idempotency_key VARCHAR(300) NOT NULL UNIQUE,
      workflow_id VARCHAR(255) NOT NULL,
      status delivery_status_enum NOT NULL DEFAULT 'pending',
      attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      last_error TEXT,
      payload JSONB NOT NULL DEFAULT '{}',
      provider_reference VARCHAR(300),
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      delivered_at TIMESTAMPTZ,
      UNIQUE (integration_id, event_id, action)
    );
    CREATE INDEX idx_deliveries_status ON integration_deliveries(organization_id, status, created_at);
    CREATE INDEX idx_deliveries_integration_status ON integration_deliveries(integration_id, status);

    ALTER TABLE integration_deliveries ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_view_deliveries ON integration_deliveries
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_admin());

    GRANT SELECT ON integration_deliveries TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS integration_deliveries;
    DROP TYPE IF EXISTS delivery_status_enum;
  `);
}
