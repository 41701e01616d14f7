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
  // A run loads the published version it started with (issue 11's immutable versions).
  tour_versions: 'SELECT',
  // persistTransition: the progress row and its analytics events (insert, duplicates ignored).
  user_tour_progress: 'SELECT, INSERT, UPDATE',
  // ON CONFLICT (event_key) DO NOTHING reads the key it conflicts on. The retention job reads what it
  // rolls up (who, which tour and step, when, how long) and deletes the day: never the page or the
  // device. It reads event_data for one field, the A/B test a start or completion ran under (see
  // tour_ab_assignments below).
  tour_analytics_events: 'INSERT, DELETE, SELECT (event_key, organization_id, user_id, tour_id, "timestamp", event_type, step_index, step_key, interaction_time_ms, event_data)',
  // Retention: pseudonymous per-person aggregates upserted (the key it conflicts on, the sums it adds
  // to) and, with the anonymous ones (written by a SECURITY DEFINER trigger, not by the worker), pruned
  // after two years.
  tour_analytics_user_daily: 'SELECT, INSERT, UPDATE (event_count, interaction_ms_sum, interaction_count), DELETE',
  tour_analytics_daily: 'SELECT (day), DELETE',
  // Retention copies each person's first start and completion onto their A/B assignment before their
  // raw events go, so a test's results outlive the events; assignments hold a hash, never a user id.
  tour_ab_assignments: 'SELECT (organization_id, ab_test_id, subject_hash, started_at, completed_at), UPDATE (started_at, completed_at)',
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
  // The outbox: planning writes tour events (once per dedupe key), health flips and paused subscriptions
  // write notices; the relay fans rows out and marks them relayed; a lane reads the event it sends.
  outbound_events: 'SELECT, INSERT, UPDATE (relayed_at)',
  // Outbound webhooks: the relay makes deliveries and wakes lanes; a lane sends with the subscription's
  // secrets, records each attempt, counts failures against the subscription and pauses it.
  webhook_subscriptions: 'SELECT, UPDATE (failing_since, consecutive_failures, status, paused_at, paused_reason, updated_at)',
  webhook_deliveries: 'SELECT, INSERT, UPDATE (attempts, status, last_status_code, last_error, signalled_at, updated_at, delivered_at)',
  webhook_delivery_attempts: 'INSERT, SELECT (delivery_id, attempt)',
  // Calendar change-notification channels: made, renewed and stopped by the pushChannel workflow, swept by the relay.
  push_channels: 'SELECT, INSERT, UPDATE (expires_at, status, updated_at)',
};

/** Sequences behind the granted tables' defaults: an insert draws from them. */
export const WORKER_SEQUENCES = ['outbound_events_seq_seq'];

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
  for (const sequence of WORKER_SEQUENCES) await knex.raw(`GRANT USAGE ON SEQUENCE ${sequence} TO tourhub_worker`);
}

export async function down(knex: Knex): Promise<void> {
  for (const sequence of WORKER_SEQUENCES) await knex.raw(`REVOKE ALL ON SEQUENCE ${sequence} FROM tourhub_worker`);
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
