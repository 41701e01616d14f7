import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TYPE sync_status_enum AS ENUM ('pending', 'in_progress', 'completed', 'failed', 'conflict');

    CREATE TABLE sync_timestamps (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      progress_id UUID NOT NULL REFERENCES user_tour_progress(id) ON DELETE CASCADE,
      integration_id UUID NOT NULL REFERENCES organization_integrations(id) ON DELETE CASCADE,
      last_synced_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      sync_status sync_status_enum NOT NULL DEFAULT 'completed',
      UNIQUE (progress_id, integration_id)
    );
    CREATE INDEX idx_sync_timestamps_progress ON sync_timestamps(progress_id, last_synced_at);

    ALTER TABLE sync_timestamps ENABLE ROW LEVEL SECURITY;
    -- Seed 001: users see the sync state of their own progress (admins: their organisation's).
    CREATE POLICY users_view_own_sync_status ON sync_timestamps
      FOR SELECT USING (
        organization_id = tourhub_org_id() AND (
          tourhub_is_admin() OR EXISTS (
            SELECT 1 FROM user_tour_progress p WHERE p.id = progress_id AND p.user_id = tourhub_user_id()
          )
        )
      );

    GRANT SELECT ON sync_timestamps TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS sync_timestamps;
    DROP TYPE IF EXISTS sync_status_enum;
  `);
}
