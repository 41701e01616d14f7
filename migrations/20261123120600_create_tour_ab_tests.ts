import type { Knex } from 'knex';

// Seed 000's tour_ab_tests plus the assignments table seed 004 asks for: a user keeps the variant
// they were first given, which a hash alone cannot promise once the traffic split changes.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TYPE ab_test_status_enum AS ENUM ('draft', 'running', 'paused', 'completed', 'archived');

    CREATE TABLE tour_ab_tests (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      tour_id UUID NOT NULL REFERENCES tour_definitions(id) ON DELETE CASCADE,
      test_name VARCHAR(100) NOT NULL,
      description TEXT,
      variant_a JSONB NOT NULL DEFAULT '{}',
      variant_b JSONB NOT NULL DEFAULT '{}',
      traffic_split DECIMAL(3,2) NOT NULL DEFAULT 0.50 CHECK (traffic_split >= 0 AND traffic_split <= 1),
      status ab_test_status_enum NOT NULL DEFAULT 'draft',
      start_date TIMESTAMPTZ,
      end_date TIMESTAMPTZ,
      primary_metric VARCHAR(100) NOT NULL DEFAULT 'completion_rate',
      minimum_sample_size INTEGER NOT NULL DEFAULT 100 CHECK (minimum_sample_size > 0),
      statistical_significance DECIMAL(3,2) NOT NULL DEFAULT 0.95
        CHECK (statistical_significance > 0 AND statistical_significance < 1),
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      CHECK (end_date IS NULL OR start_date IS NULL OR end_date > start_date)
    );
    CREATE INDEX idx_ab_tests_tour_status ON tour_ab_tests(tour_id, status);
    -- At most one running test per tour, so a user's variant is never ambiguous.
    CREATE UNIQUE INDEX uniq_running_ab_test_per_tour ON tour_ab_tests(tour_id) WHERE status = 'running';

    CREATE TABLE tour_ab_assignments (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      ab_test_id UUID NOT NULL REFERENCES tour_ab_tests(id) ON DELETE CASCADE,
      tour_id UUID NOT NULL REFERENCES tour_definitions(id) ON DELETE CASCADE,
      user_id UUID NOT NULL,
      variant CHAR(1) NOT NULL CHECK (variant IN ('a', 'b')),
      assigned_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      UNIQUE (ab_test_id, user_id)
    );
    CREATE INDEX idx_ab_assignments_test_variant ON tour_ab_assignments(ab_test_id, variant);

    ALTER TABLE tour_ab_tests ENABLE ROW LEVEL SECURITY;
    ALTER TABLE tour_ab_assignments ENABLE ROW LEVEL SECURITY;
    CREATE POLICY members_view_ab_tests ON tour_ab_tests
      FOR SELECT USING (organization_id = tourhub_org_id());
    CREATE POLICY admins_manage_ab_tests ON tour_ab_tests
      FOR ALL USING (organization_id = tourhub_org_id() AND tourhub_is_admin())
      WITH CHECK (organization_id = tourhub_org_id() AND tourhub_is_admin());
    CREATE POLICY users_view_own_assignment ON tour_ab_assignments
      FOR SELECT USING (organization_id = tourhub_org_id() AND (user_id = tourhub_user_id() OR tourhub_is_admin()));
    CREATE POLICY users_receive_own_assignment ON tour_ab_assignments
      FOR INSERT WITH CHECK (organization_id = tourhub_org_id() AND user_id = tourhub_user_id());

    GRANT SELECT, INSERT, UPDATE, DELETE ON tour_ab_tests TO tourhub_app;
    GRANT SELECT, INSERT ON tour_ab_assignments TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS tour_ab_assignments;
    DROP TABLE IF EXISTS tour_ab_tests;
    DROP TYPE IF EXISTS ab_test_status_enum;
  `);
}
