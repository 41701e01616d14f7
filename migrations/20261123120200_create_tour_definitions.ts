import type { Knex } from 'knex';

// Seed 000's tour_definitions, scoped to an organisation: each planner's tours are their own,
// so another organisation asking for one by id gets nothing (404), not a shared catalogue.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TYPE tour_type_enum AS ENUM (
      'onboarding', 'feature_introduction', 'troubleshooting',
      'wedding_milestone', 'seasonal_features', 'pro_tips'
    );
    CREATE TYPE audience_enum AS ENUM (
      'couples', 'photographers', 'venues', 'planners', 'florists', 'caterers', 'all_suppliers'
    );
    CREATE TYPE phase_enum AS ENUM ('engagement', 'planning', 'final_month', 'wedding_week', 'post_wedding');

    CREATE TABLE tour_definitions (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      tour_key VARCHAR(100) NOT NULL CHECK (tour_key ~ '^[a-z0-9][a-z0-9_-]*$'),
      name VARCHAR(100) NOT NULL,
      description TEXT,
      tour_type tour_type_enum NOT NULL DEFAULT 'onboarding',
      version VARCHAR(20) NOT NULL DEFAULT '1.0.0',
      target_audience audience_enum[] NOT NULL DEFAULT ARRAY['couples']::audience_enum[],
      is_active BOOLEAN NOT NULL DEFAULT true,
      wedding_phase phase_enum NOT NULL DEFAULT 'engagement',
      estimated_duration_minutes INTEGER NOT NULL DEFAULT 15 CHECK (estimated_duration_minutes > 0),
      prerequisite_tours UUID[] NOT NULL DEFAULT ARRAY[]::UUID[],
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      UNIQUE (organization_id, tour_key)
    );
    CREATE INDEX idx_active_tours ON tour_definitions(id) WHERE is_active = true;
    CREATE INDEX idx_tour_definitions_org ON tour_definitions(organization_id, is_active);

    ALTER TABLE tour_definitions ENABLE ROW LEVEL SECURITY;
    -- Seed 000: anyone (here: any member of the owning organisation) views active tours; admins manage.
    CREATE POLICY members_view_active_tours ON tour_definitions
      FOR SELECT USING (organization_id = tourhub_org_id() AND (is_active OR tourhub_is_admin()));
    CREATE POLICY admins_manage_tours ON tour_definitions
      FOR ALL USING (organization_id = tourhub_org_id() AND tourhub_is_admin())
      WITH CHECK (organization_id = tourhub_org_id() AND tourhub_is_admin());

    GRANT SELECT, INSERT, UPDATE, DELETE ON tour_definitions TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS tour_definitions;
    DROP TYPE IF EXISTS phase_enum;
    DROP TYPE IF EXISTS audience_enum;
    DROP TYPE IF EXISTS tour_type_enum;
  `);
}
