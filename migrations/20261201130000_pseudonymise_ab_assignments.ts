import type { Knex } from 'knex';

// Experiments (issue 11). An assignment is stored under a hash of the test and the user, never the user
// id: the table alone cannot say who saw what (seed 000's "not personally identifiable"), while the
// API, acting as the user, still finds its own row by computing the same hash (tourhub_ab_subject). The
// row-level policies compute it from the transaction's user, so nobody can store or read another
// person's assignment. Assignments already stored keep their variant: their hash is computed from the
// user id before the column goes. A test gains the minimum detectable effect its sample is sized for;
// the analytics index serves the results' per-variant counts.
//
// Two functions of issue 12 find a person's assignments by user id, and are redefined here to find them
// by the same hash: the dashboard's get_ab_test_results (20261128120100) and the erasure's
// tourhub_erase_user_tour_data (20261128120400), each otherwise as it was. This migration is dated after
// them so that a fresh database creates them first (a SQL function's body is checked when created).

/**
 * The two issue 12 functions that find a person's assignments, as 20261128120100 and 20261128120400
 * define them but for how an assignment is matched: to a progress row (`a`, `p`, `t`) and to the erased
 * person (`p_user`). CREATE OR REPLACE keeps their owner and grants.
 */
function assignmentReaders(match: { assignmentOfProgress: string; assignmentOfUser: string }): string {
  const { assignmentOfProgress, assignmentOfUser } = match;
  return `
    CREATE OR REPLACE FUNCTION get_ab_test_results(test_id UUID)
    RETURNS TABLE (
      variant CHAR(1), sample_size BIGINT, conversions BIGINT, conversion_rate NUMERIC,
      average_time NUMERIC, user_satisfaction NUMERIC
    ) LANGUAGE sql STABLE AS $$
      SELECT a.variant,
             count(*),
             count(*) FILTER (WHERE p.status = 'completed'),
             round(count(*) FILTER (WHERE p.status = 'completed') * 100.0 / count(*), 2),
             round(avg(p.total_time_seconds / 60.0), 1),
             round(avg(p.user_rating), 1)
        FROM tour_ab_tests t
        JOIN tour_ab_assignments a ON a.ab_test_id = t.id
        JOIN user_tour_progress p
          ON p.organization_id = a.organization_id AND p.tour_id = t.tour_id
         AND ${assignmentOfProgress}
       WHERE t.id = test_id AND p.started_at IS NOT NULL
       GROUP BY a.variant
       ORDER BY a.variant
    $$;


    CREATE OR REPLACE FUNCTION tourhub_erase_user_tour_data(p_user UUID, p_user_key BYTEA) RETURNS JSONB
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
    DECLARE
      org UUID := tourhub_org_id();
      prefix TEXT;
      deliveries UUID[];
      cancelled BIGINT;
      result JSONB := '{}'::jsonb;
      n BIGINT;
    BEGIN
      IF org IS NULL OR NOT tourhub_is_admin() THEN
        RAISE EXCEPTION 'only an organisation admin can erase a person''s data' USING ERRCODE = '42501';
      END IF;
      prefix := 'tour:' || org || ':' || p_user || ':';
      cancelled := tourhub_cancel_user_deliveries(p_user);
      result := result || jsonb_build_object('deliveries_cancelled', cancelled);

      SELECT coalesce(array_agg(id), '{}') INTO deliveries
        FROM integration_deliveries WHERE organization_id = org AND workflow_id LIKE prefix || '%';
      UPDATE integration_logs
         SET event_id = 'erased:' || coalesce(delivery_id::text, id::text), user_id = NULL, progress_id = NULL,
             error_message = NULL, response_data = NULL
       WHERE organization_id = org AND (delivery_id = ANY (deliveries) OR user_id = p_user OR event_id LIKE prefix || '%');
      DELETE FROM delivery_guards WHERE organization_id = org AND idempotency_key LIKE prefix || '%';
      UPDATE integration_deliveries
         SET workflow_id = 'erased', event_id = 'erased:' || id, idempotency_key = 'erased:' || id,
             sealed_action = NULL, last_error = NULL, provider_reference = NULL, updated_at = now()
       WHERE id = ANY (deliveries);
      result := result || jsonb_build_object('deliveries_anonymised', cardinality(deliveries));

      DELETE FROM tour_analytics_events WHERE organization_id = org AND user_id = p_user;
      GET DIAGNOSTICS n = ROW_COUNT;
      result := result || jsonb_build_object('events', n);
      DELETE FROM tour_analytics_user_daily WHERE organization_id = org AND user_key = p_user_key;
      GET DIAGNOSTICS n = ROW_COUNT;
      result := result || jsonb_build_object('pseudonymised_aggregates', n);
      DELETE FROM tour_ab_assignments WHERE organization_id = org AND ${assignmentOfUser};
      GET DIAGNOSTICS n = ROW_COUNT;
      result := result || jsonb_build_object('ab_assignments', n);
      DELETE FROM user_tour_progress WHERE organization_id = org AND user_id = p_user;
      GET DIAGNOSTICS n = ROW_COUNT;
      result := result || jsonb_build_object('progress', n);
      DELETE FROM outbound_events WHERE organization_id = org AND subject_id = p_user;
      DELETE FROM organization_members WHERE organization_id = org AND user_id = p_user;
      GET DIAGNOSTICS n = ROW_COUNT;
      RETURN result || jsonb_build_object('membership', n);
    END $$;
  `;
}

const BY_HASH = {
  assignmentOfProgress: 'a.subject_hash = tourhub_ab_subject(t.id, p.user_id)',
  assignmentOfUser: 'subject_hash = tourhub_ab_subject(ab_test_id, p_user)',
};
const BY_USER_ID = { assignmentOfProgress: 'p.user_id = a.user_id', assignmentOfUser: 'user_id = p_user' };

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION tourhub_ab_subject(test_id uuid, user_id uuid) RETURNS text
      LANGUAGE sql IMMUTABLE STRICT AS
      $$ SELECT encode(sha256(convert_to(test_id::text || ':' || user_id::text, 'UTF8')), 'hex') $$;
    GRANT EXECUTE ON FUNCTION tourhub_ab_subject(uuid, uuid) TO tourhub_app;

    DROP POLICY users_view_own_assignment ON tour_ab_assignments;
    DROP POLICY users_receive_own_assignment ON tour_ab_assignments;
    ALTER TABLE tour_ab_assignments DROP CONSTRAINT tour_ab_assignments_ab_test_id_user_id_key;
    ALTER TABLE tour_ab_assignments ADD COLUMN subject_hash CHAR(64);
    UPDATE tour_ab_assignments SET subject_hash = tourhub_ab_subject(ab_test_id, user_id);
    ALTER TABLE tour_ab_assignments ALTER COLUMN subject_hash SET NOT NULL;
    ALTER TABLE tour_ab_assignments DROP COLUMN user_id;
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

    ${assignmentReaders(BY_HASH)}
  `);
}

// A hash cannot give the user id back: the assignments go (people are assigned afresh, by the same
// hash of test and user, so most keep their variant), and both functions return to their user-id form.
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

    ${assignmentReaders(BY_USER_ID)}

    DROP FUNCTION IF EXISTS tourhub_ab_subject(uuid, uuid);
  `);
}
