import type { Knex } from 'knex';

// Inbound webhooks arrive without a bearer token: the signature (or the channel token) is the proof, and
// the organisation is the one the path or the signed body names. The API still connects as tourhub_app
// under RLS, in a transaction whose app.role is 'webhook' and whose app.org_id is that organisation
// (db/receiver-scope.ts): these policies give such a transaction exactly what verifying and recording
// an inbound event needs, in that organisation only.
//
// tourhub_integration_org() answers the one question a receiver must ask before it has an
// organisation, "whose integration is this path id?", without opening the table to the role.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION tourhub_is_receiver() RETURNS boolean LANGUAGE sql STABLE AS
      $$ SELECT coalesce(current_setting('app.role', true), '') = 'webhook' $$;
    CREATE OR REPLACE FUNCTION tourhub_integration_org(integration uuid) RETURNS uuid
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
      $$ SELECT organization_id FROM organization_integrations WHERE id = integration $$;
    REVOKE ALL ON FUNCTION tourhub_integration_org(uuid) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION tourhub_is_receiver(), tourhub_integration_org(uuid) TO tourhub_app;

    CREATE POLICY receivers_read_integrations ON organization_integrations
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_receiver());

    -- webhook_events: one row per inbound event, unique per organisation and source, so a replay is
    -- found and answered without a second effect.
    ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_webhook_id_key;
    ALTER TABLE webhook_events ALTER COLUMN webhook_id TYPE VARCHAR(300);
    ALTER TABLE webhook_events ALTER COLUMN webhook_id SET NOT NULL;
    ALTER TABLE webhook_events ALTER COLUMN organization_id SET NOT NULL;
    ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_org_source_id_key UNIQUE (organization_id, source, webhook_id);
    ALTER TABLE webhook_events
      ADD COLUMN integration_id UUID REFERENCES organization_integrations(id) ON DELETE SET NULL,
      ADD COLUMN resource TEXT;
    CREATE INDEX idx_webhook_events_integration ON webhook_events(integration_id, created_at) WHERE integration_id IS NOT NULL;
    CREATE POLICY receivers_record_webhook_events ON webhook_events
      FOR ALL USING (organization_id = tourhub_org_id() AND tourhub_is_receiver())
      WITH CHECK (organization_id = tourhub_org_id() AND tourhub_is_receiver());
    GRANT INSERT, UPDATE, DELETE ON webhook_events TO tourhub_app;

    -- What a provider later says about a call we made: an SMS delivered or failed, a payment made.
    ALTER TABLE integration_deliveries
      ADD COLUMN provider_status VARCHAR(50),
      ADD COLUMN provider_status_at TIMESTAMPTZ,
      ADD COLUMN provider_detail JSONB;
    CREATE INDEX idx_deliveries_provider_reference ON integration_deliveries(integration_id, provider_reference)
      WHERE provider_reference IS NOT NULL;
    CREATE POLICY receivers_read_deliveries ON integration_deliveries
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_receiver());
    CREATE POLICY receivers_note_delivery_status ON integration_deliveries
      FOR UPDATE USING (organization_id = tourhub_org_id() AND tourhub_is_receiver())
      WITH CHECK (organization_id = tourhub_org_id() AND tourhub_is_receiver());
    GRANT UPDATE (provider_status, provider_status_at, provider_detail) ON integration_deliveries TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    REVOKE UPDATE (provider_status, provider_status_at, provider_detail) ON integration_deliveries FROM tourhub_app;
    DROP POLICY IF EXISTS receivers_note_delivery_status ON integration_deliveries;
    DROP POLICY IF EXISTS receivers_read_deliveries ON integration_deliveries;
    DROP INDEX IF EXISTS idx_deliveries_provider_reference;
    ALTER TABLE integration_deliveries
      DROP COLUMN IF EXISTS provider_detail,
      DROP COLUMN IF EXISTS provider_status_at,
      DROP COLUMN IF EXISTS provider_status;

    REVOKE INSERT, UPDATE, DELETE ON webhook_events FROM tourhub_app;
    DROP POLICY IF EXISTS receivers_record_webhook_events ON webhook_events;
    DROP INDEX IF EXISTS idx_webhook_events_integration;
    ALTER TABLE webhook_events DROP COLUMN IF EXISTS resource, DROP COLUMN IF EXISTS integration_id;
    ALTER TABLE webhook_events DROP CONSTRAINT IF EXISTS webhook_events_org_source_id_key;
    ALTER TABLE webhook_events ALTER COLUMN organization_id DROP NOT NULL;
    ALTER TABLE webhook_events ALTER COLUMN webhook_id DROP NOT NULL;
    -- Ids were unique only per organisation and source: keep the newest of any that now collide.
    DELETE FROM webhook_events a USING webhook_events b
      WHERE left(a.webhook_id, 100) = left(b.webhook_id, 100) AND (a.created_at, a.id) < (b.created_at, b.id);
    ALTER TABLE webhook_events ALTER COLUMN webhook_id TYPE VARCHAR(100) USING left(webhook_id, 100);
    ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_webhook_id_key UNIQUE (webhook_id);

    DROP POLICY IF EXISTS receivers_read_integrations ON organization_integrations;
    DROP FUNCTION IF EXISTS tourhub_integration_org(uuid);
    DROP FUNCTION IF EXISTS tourhub_is_receiver();
  `);
}
