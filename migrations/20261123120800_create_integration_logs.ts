import type { Knex } from 'knex';

// One row per delivery attempt; written by the worker, read by the organisation's admins.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE integration_logs (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      integration_id UUID REFERENCES organization_integrations(id) ON DELETE SET NULL,
      delivery_id UUID,
      event_id VARCHAR(300),
      integration_type integration_type_enum,
      integration_provider VARCHAR(50),
      action VARCHAR(100),
      attempt INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1),
      success BOOLEAN NOT NULL,
      http_status INTEGER,
      error_class VARCHAR(100),
      error_message TEXT,
      request_summary JSONB,
      response_data JSONB,
      processing_duration_ms INTEGER CHECK (processing_duration_ms >= 0),
      processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      tour_id UUID REFERENCES tour_definitions(id) ON DELETE SET NULL,
      progress_id UUID REFERENCES user_tour_progress(id) ON DELETE SET NULL,
      user_id UUID
    );
    CREATE INDEX idx_integration_logs_event ON integration_logs(event_id, processed_at);
    CREATE INDEX idx_integration_logs_integration_time ON integration_logs(integration_id, processed_at);

    ALTER TABLE integration_logs ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_view_integration_logs ON integration_logs
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_admin());

    GRANT SELECT ON integration_logs TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS integration_logs;`);
}
