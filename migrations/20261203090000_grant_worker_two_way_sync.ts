import type { Knex } from 'knex';

/**
 * What two-way sync's activities and the circuit breaker need of the worker's role
 * (20261202090000_create_worker_role.ts), which came after their tables. Tables sync owns get their
 * grant and the worker's policy; tables the role already uses get only the columns sync adds to its
 * reach. test/db/worker-role.test.ts checks the role holds exactly these and the first migration's.
 */
export const SYNC_WORKER_TABLES: Record<string, string> = {
  // A pass's row (queued by the API, run, folded into another, failed or skipped), its figures as it goes.
  sync_runs: 'SELECT, INSERT, UPDATE',
  // Each integration's cursor and last passes.
  sync_states: 'SELECT, INSERT, UPDATE',
  // The last agreement per record, written after each comparison.
  sync_records: 'SELECT, INSERT, UPDATE',
  // One pass's staged reads, deleted when it ends.
  sync_remote_records: 'SELECT, INSERT, UPDATE, DELETE',
  // Conflicts found by a pass; a resolution marked applied once the provider took it.
  sync_conflicts: 'SELECT, INSERT, UPDATE',
  // Seed 001's per-couple sync status, touched after each comparison.
  sync_timestamps: 'SELECT, INSERT, UPDATE (last_synced_at, sync_status)',
};

/** Columns of tables the role already uses: what sync and the breaker read or write besides. */
export const SYNC_WORKER_COLUMNS: Record<string, string> = {
  // Latest-wins reads when our side last changed; a planner's edit taken from the provider is written back.
  organization_members: 'SELECT (updated_at), UPDATE (display_name, phone)',
  // The breaker opens and closes with health and paces its probes; a finished pass records its time.
  organization_integrations: 'UPDATE (breaker_state, breaker_opened_at, breaker_next_probe_at, last_sync_at)',
  // Seed 001's merge fields name the organisation's plan.
  organizations: 'SELECT (subscription_tier)',
};

export async function up(knex: Knex): Promise<void> {
  for (const [table, privileges] of Object.entries(SYNC_WORKER_TABLES)) {
    await knex.raw(`
      GRANT ${privileges} ON ${table} TO tourhub_worker;
      CREATE POLICY worker_acts_for_every_org ON ${table} FOR ALL TO tourhub_worker USING (true) WITH CHECK (true);
    `);
  }
  for (const [table, privileges] of Object.entries(SYNC_WORKER_COLUMNS)) await knex.raw(`GRANT ${privileges} ON ${table} TO tourhub_worker`);
}

export async function down(knex: Knex): Promise<void> {
  for (const [table, privileges] of Object.entries(SYNC_WORKER_COLUMNS)) await knex.raw(`REVOKE ${privileges} ON ${table} FROM tourhub_worker`);
  for (const table of Object.keys(SYNC_WORKER_TABLES)) {
    await knex.raw(`
      DROP POLICY IF EXISTS worker_acts_for_every_org ON ${table};
      REVOKE ALL ON ${table} FROM tourhub_worker;
    `);
  }
}
