import type { Knex } from 'knex';

// What two-way sync compares with:
// - sync_records: per integration and record (a couple's email, an event id), the values both sides
//   last agreed on (`base`, so a pass can tell which side changed), and our values that live nowhere
//   else (`local`: a consultation time accepted from the planner's calendar);
// - sync_remote_records: one pass's pull from the provider, staged so the comparison is one ordered
//   scan over each side in Postgres rather than either side held in memory; deleted when the pass ends.
//   Logged like any table: a pass whose staging vanished would take every record for missing.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE sync_records (
      integration_id UUID NOT NULL REFERENCES organization_integrations(id) ON DELETE CASCADE,
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      record_key VARCHAR(400) NOT NULL,
      remote_id VARCHAR(400),
      base JSONB NOT NULL DEFAULT '{}',
      local JSONB NOT NULL DEFAULT '{}',
      synced_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      PRIMARY KEY (integration_id, record_key)
    );

    CREATE TABLE sync_remote_records (
      run_id UUID NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
      record_key VARCHAR(400) NOT NULL,
      remote_id VARCHAR(400) NOT NULL,
      fields JSONB NOT NULL,
      remote_updated_at TIMESTAMPTZ,
      PRIMARY KEY (run_id, record_key)
    );

    ALTER TABLE sync_records ENABLE ROW LEVEL SECURITY;
    ALTER TABLE sync_remote_records ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_view_sync_records ON sync_records
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_admin());
    GRANT SELECT ON sync_records TO tourhub_app;
    -- Staging is the worker's alone: no policy and no grant, so the API's role reads none of it.
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS sync_remote_records;
    DROP TABLE IF EXISTS sync_records;
  `);
}
