import type { Knex } from 'knex';

/**
 * The role the worker connects as: exactly what its activities read and write, for every organisation,
 * instead of the owner connection (which could drop tables and read everything). Each table it touches
 * gets a policy for this role alone, since the worker acts for all organisations and sets no tenant.
 * A new table the worker must use needs its grant (and policy) here or in its own migration;
 * test/db/worker-role.test.ts lists every table's decision and fails on a table nobody decided about.
 */
export const WORKER_GRANTS: Record<string, string> = {
  // loadTour: the definition and its steps.
  tour_definitions: 'SELECT',
  tour_steps: 'SELECT',
  // persistTransition: the progress row and its analytics events (insert, duplicates ignored).
  user_tour_progress: 'SELECT, INSERT, UPDATE',
  // ON CONFLICT (event_key) DO NOTHING reads the key it conflicts on.
  tour_analytics_events: 'INSERT, SELECT (event_key)',
  // planDeliveries: the organisation's time zone and whom the event is about.
  organizations: 'SELECT (id, time_zone)',
  organization_members: 'SELECT (organization_id, user_id, email, display_name, phone)',
  // Connectors read integrations; OAuth refreshes write credentials back; health flips write the health.
  organization_integrations: 'SELECT, UPDATE (credentials, health, health_changed_at, updated_at)',
  // Deliveries, their attempts (read back to judge an integration's health), the guards of providers
  // without idempotency keys, admins' notifications.
  integration_deliveries: 'SELECT, INSERT, UPDATE',
  integration_logs: 'SELECT, INSERT',
  delivery_guards: 'SELECT, INSERT, UPDATE',
  outbound_events: 'INSERT',
};

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tourhub_worker') THEN
        CREATE ROLE tourhub_worker NOLOGIN;
      END IF;
    END $$;
    GRANT USAGE ON SCHEMA public TO tourhub_worker;
  `);
  for (const [table, privileges] of Object.entries(WORKER_GRANTS)) {
    await knex.raw(`
      GRANT ${privileges} ON ${table} TO tourhub_worker;
      CREATE POLICY worker_acts_for_every_org ON ${table} FOR ALL TO tourhub_worker USING (true) WITH CHECK (true);
    `);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of Object.keys(WORKER_GRANTS)) {
    await knex.raw(`
      DROP POLICY IF EXISTS worker_acts_for_every_org ON ${table};
      REVOKE ALL ON ${table} FROM tourhub_worker;
    `);
  }
  await knex.raw(`
    REVOKE USAGE ON SCHEMA public FROM tourhub_worker;
    DO $$ BEGIN
      DROP ROLE IF EXISTS tourhub_worker;
    EXCEPTION WHEN dependent_objects_still_exist THEN
      RAISE NOTICE 'tourhub_worker is still used by another database; kept';
    END $$;
  `);
}
