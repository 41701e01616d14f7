import type { Knex } from 'knex';

// What the hub needs beyond the seed's tables:
// - a per-tour inactivity period (null: the configured default) that fires tour_abandoned;
// - the member's phone, so the SMS welcome has somewhere to go;
// - each delivery's planned call, sealed with the credentials' keyring (it holds a couple's name and
//   email), so an operator's replay re-sends exactly what was planned, under the same key;
// - an outbox of events for the organisation's admins (an integration degraded, then recovered).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE tour_definitions
      ADD COLUMN inactivity_timeout_minutes INTEGER CHECK (inactivity_timeout_minutes > 0);
    ALTER TABLE organization_members ADD COLUMN phone VARCHAR(32);
    ALTER TABLE integration_deliveries ADD COLUMN sealed_action JSONB;
    CREATE INDEX idx_deliveries_pending_age ON integration_deliveries(integration_id, created_at)
      WHERE status IN ('pending', 'failed');
    ALTER TABLE organization_integrations ADD COLUMN health_changed_at TIMESTAMPTZ;

    CREATE TABLE outbound_events (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      event_type VARCHAR(100) NOT NULL,
      subject_id UUID,
      payload JSONB NOT NULL DEFAULT '{}',
      created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX idx_outbound_events_org_time ON outbound_events(organization_id, created_at DESC);

    ALTER TABLE outbound_events ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_view_outbound_events ON outbound_events
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_admin());
    GRANT SELECT ON outbound_events TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS outbound_events;
    ALTER TABLE organization_integrations DROP COLUMN IF EXISTS health_changed_at;
    DROP INDEX IF EXISTS idx_deliveries_pending_age;
    ALTER TABLE integration_deliveries DROP COLUMN IF EXISTS sealed_action;
    ALTER TABLE organization_members DROP COLUMN IF EXISTS phone;
    ALTER TABLE tour_definitions DROP COLUMN IF EXISTS inactivity_timeout_minutes;
  `);
}
