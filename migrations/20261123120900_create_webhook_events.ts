import type { Knex } from 'knex';

// Seed 001 lets "the system" manage webhooks with USING (true); that would show every organisation's
// inbound payloads to any member, so rows carry their organisation and only its admins read them.
// The worker (owner connection) writes them.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TYPE webhook_status_enum AS ENUM ('pending', 'processed', 'failed', 'retrying');

    CREATE TABLE webhook_events (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID REFERENCES organizations(id) ON DELETE CASCADE,
      webhook_id VARCHAR(100) UNIQUE,
      event_type VARCHAR(50) NOT NULL,
      source VARCHAR(50) NOT NULL,
      payload JSONB NOT NULL,
      processed_at TIMESTAMPTZ,
      status webhook_status_enum NOT NULL DEFAULT 'pending',
      integration_event_id UUID,
      error_message TEXT,
      retry_count INTEGER NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
      created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX idx_webhook_events_status ON webhook_events(status, created_at);

    ALTER TABLE webhook_events ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_view_webhook_events ON webhook_events
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_admin());

    GRANT SELECT ON webhook_events TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS webhook_events;
    DROP TYPE IF EXISTS webhook_status_enum;
  `);
}
