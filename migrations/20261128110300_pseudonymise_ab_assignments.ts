import type { Knex } from 'knex';

// Experiments (issue 11). An assignment is stored under a hash of the test and the user, never the user
// id: the table alone cannot say who saw what (seed 000's "not personally identifiable"), while the
// API, acting as the user, still finds its own row by computing the same hash (tourhub_ab_subject). The
// row-level policies compute it from the transaction's user, so nobody can store or read another
// person's assignment. A test gains the minimum detectable effect its sample is sized for; the
// analytics index serves the results' per-variant counts.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION tourhub_ab_subject(test_id uuid, user_id uuid) RETURNS text
      LANGUAGE sql IMMUTABLE STRICT AS
      $$ SELECT encode(sha256(convert_to(test_id::text || ':' || user_id::text, 'UTF8')), 'hex') $$;
    GRANT EXECUTE ON FUNCTION tourhub_ab_subject(uuid, uuid) TO tourhub_app;

    DELETE FROM tour_ab_assignments;
    DROP POLICY users_view_own_assignment ON tour_ab_assignments;
    DROP POLICY users_receive_own_assignment ON tour_ab_assignments;
    ALTER TABLE tour_ab_assignments DROP CONSTRAINT tour_ab_assignments_ab_test_id_user_id_key;
    ALTER TABLE tour_ab_assignments DROP COLUMN user_id;
    ALTER TABLE tour_ab_assignments ADD COLUMN subject_hash CHAR(64) NOT NULL;
    ALTER TABLE tour_ab_assignments ADD CONSTRAINT tour_ab_assignments_test_subject_key UNIQUE (ab_test_id, subject_hash);
    CREATE POLICY users_view_own_assignment ON tour_ab_assignments
      FOR SELECT USING (organization_id = tourhub_org_id()
        AND (subject_hash = tourhub_ab_subject(ab_test_id, tourhub_user_id()) OR tourhub_is_admin()));
    CREATE POLICY users_receive_own_assignment ON tour_ab_assignments
      FOR INSERT WITH CHECK (organization_id = tourhub_org_id()
        AND subject_hash = tourhub_ab_subject(ab_test_id, tourhub_user_id()));

    ALTER TABLE tour_ab_tests
      ADD COLUMN minimum_detectable_effect DECIMAL(5,4) NOT NULL DEFAULT 0.1000
        CHECK (minimum_detectable_effect > 0 AND minimum_detectable_effect <= 10),
      ADD CONSTRAINT tour_ab_tests_metric_check CHECK (primary_metric IN ('completion_rate', 'start_rate'));

    CREATE INDEX idx_tour_analytics_ab_test ON tour_analytics_events ((event_data->>'ab_test_id'), event_type)
      WHERE (event_data->>'ab_test_id') IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX IF EXISTS idx_tour_analytics_ab_test;
    ALTER TABLE tour_ab_tests
      DROP CONSTRAINT IF EXISTS tour_ab_tests_metric_check,
      DROP COLUMN IF EXISTS minimum_detectable_effect;

    DELETE FROM tour_ab_assignments;
    DROP POLICY users_view_own_assignment ON tour_ab_assignments;
    DROP POLICY users_receive_own_assignment ON tour_ab_assignments;
    ALTER TABLE tour_ab_assignments DROP CONSTRAINT tour_ab_assignments_test_subject_key;
    ALTER TABLE tour_ab_assignments DROP COLUMN subject_hash;
    ALTER TABLE tour_ab_assignments ADD COLUMN user_id UUID NOT NULL;
    ALTER TABLE tour_ab_assignments ADD CONSTRAINT tour_ab_assignments_ab_test_id_user_id_key UNIQUE (ab_test_id, user_id);
    CREATE POLICY users_view_own_assignment ON tour_ab_assignments
      FOR SELECT USING (organization_id = tourhub_org_id() AND (user_id = tourhub_user_id() OR tourhub_is_admin()));
    CREATE POLICY users_receive_own_assignment ON tour_ab_assignments
      FOR INSERT WITH CHECK (organization_id = tourhub_org_id() AND user_id = tourhub_user_id());
    DROP FUNCTION IF EXISTS tourhub_ab_subject(uuid, uuid);
  `);
}
