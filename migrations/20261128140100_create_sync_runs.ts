import type { Knex } from 'knex';

// Two-way sync's bookkeeping: one row per reconciliation pass of one integration (scheduled, asked for
// by a webhook, or part of an organisation's full resync, which the API queues and reads back), and per
// integration the provider's cursor (a sync token, a delta link, a time) the next pass starts from.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TYPE sync_run_status_enum AS ENUM ('queued', 'running', 'completed', 'failed', 'skipped', 'merged');

    CREATE TABLE sync_runs (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      integration_id UUID NOT NULL REFERENCES organization_integrations(id) ON DELETE CASCADE,
      -- The organisation's full resync this pass belongs to, if any.
      resync_id UUID,
      full_pass BOOLEAN NOT NULL,
      reason VARCHAR(100) NOT NULL,
      status sync_run_status_enum NOT NULL DEFAULT 'queued',
      phase VARCHAR(20) CHECK (phase IN ('pull', 'compare', 'resolve', 'done')),
      -- A queued pass folded into one already starting: its figures are that one's.
      merged_into UUID REFERENCES sync_runs(id) ON DELETE SET NULL,
      pages INTEGER NOT NULL DEFAULT 0 CHECK (pages >= 0),
      pulled INTEGER NOT NULL DEFAULT 0 CHECK (pulled >= 0),
      compared INTEGER NOT NULL DEFAULT 0 CHECK (compared >= 0),
      pushed INTEGER NOT NULL DEFAULT 0 CHECK (pushed >= 0),
      accepted INTEGER NOT NULL DEFAULT 0 CHECK (accepted >= 0),
      conflicts INTEGER NOT NULL DEFAULT 0 CHECK (conflicts >= 0),
      error TEXT,
      requested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      started_at TIMESTAMPTZ,
      finished_at TIMESTAMPTZ
    );
    CREATE INDEX idx_sync_runs_resync ON sync_runs(organization_id, resync_id) WHERE resync_id IS NOT NULL;
    CREATE INDEX idx_sync_runs_integration ON sync_runs(integration_id, requested_at DESC);

    CREATE TABLE sync_states (
      integration_id UUID PRIMARY KEY REFERENCES organization_integrations(id) ON DELETE CASCADE,
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      cursor TEXT,
      last_synced_at TIMESTAMPTZ,
      last_full_sync_at TIMESTAMPTZ,
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );

    ALTER TABLE sync_runs ENABLE ROW LEVEL SECURITY;
    ALTER TABLE sync_states ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_view_sync_runs ON sync_runs
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_admin());
    -- An admin's resync queues one pass per integration; the worker (owner) runs them.
    CREATE POLICY admins_queue_sync_runs ON sync_runs
      FOR INSERT WITH CHECK (organization_id = tourhub_org_id() AND tourhub_is_admin() AND status = 'queued');
    CREATE POLICY admins_view_sync_states ON sync_states
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_admin());
    GRANT SELECT, INSERT ON sync_runs TO tourhub_app;
    GRANT SELECT ON sync_states TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS sync_states;
    DROP TABLE IF EXISTS sync_runs;
    DROP TYPE IF EXISTS sync_run_status_enum;
  `);
}
