import type { Knex } from 'knex';

// Two-way sync's manual conflicts: one field of one record where our value and the provider's both
// changed and the policy asks a person. Both values are kept (they can be a couple's name or phone, so
// only the organisation's admins read them) until an admin resolves it through the API; the worker then
// sends the resolution through a planned delivery whose key names the conflict and the choice.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TYPE sync_conflict_status_enum AS ENUM ('open', 'resolved');

    CREATE TABLE sync_conflicts (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      integration_id UUID NOT NULL REFERENCES organization_integrations(id) ON DELETE CASCADE,
      record_key VARCHAR(400) NOT NULL,
      remote_id VARCHAR(400),
      field VARCHAR(200) NOT NULL,
      ours_value JSONB NOT NULL,
      theirs_value JSONB NOT NULL,
      base_value JSONB,
      ours_at TIMESTAMPTZ,
      theirs_at TIMESTAMPTZ,
      user_id UUID,
      progress_id UUID REFERENCES user_tour_progress(id) ON DELETE SET NULL,
      status sync_conflict_status_enum NOT NULL DEFAULT 'open',
      detected_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      resolution VARCHAR(10) CHECK (resolution IN ('ours', 'theirs', 'value')),
      resolved_value JSONB,
      resolved_by UUID,
      resolved_at TIMESTAMPTZ,
      -- Set by the worker once the resolution is planned (and, where the provider needs it, sent).
      applied_at TIMESTAMPTZ,
      delivery_key VARCHAR(400),
      CHECK ((status = 'open') = (resolved_at IS NULL)),
      CHECK ((status = 'open') = (resolution IS NULL))
    );
    -- One open conflict per field of a record: a later pass that finds it still open updates it.
    CREATE UNIQUE INDEX uniq_open_sync_conflict ON sync_conflicts(integration_id, record_key, field) WHERE status = 'open';
    CREATE INDEX idx_sync_conflicts_listing ON sync_conflicts(organization_id, detected_at DESC, id DESC);
    CREATE INDEX idx_sync_conflicts_unapplied ON sync_conflicts(integration_id, resolved_at) WHERE status = 'resolved' AND applied_at IS NULL;

    ALTER TABLE sync_conflicts ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_view_sync_conflicts ON sync_conflicts
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_admin());
    CREATE POLICY admins_resolve_sync_conflicts ON sync_conflicts
      FOR UPDATE USING (organization_id = tourhub_org_id() AND tourhub_is_admin())
      WITH CHECK (organization_id = tourhub_org_id() AND tourhub_is_admin());
    GRANT SELECT, UPDATE ON sync_conflicts TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS sync_conflicts;
    DROP TYPE IF EXISTS sync_conflict_status_enum;
  `);
}
