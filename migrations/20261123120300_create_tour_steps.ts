import type { Knex } from 'knex';

// organization_id is copied from the tour so the RLS policy needs no join on every read.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TYPE position_enum AS ENUM (
      'top', 'bottom', 'left', 'right', 'top-left', 'top-right', 'bottom-left', 'bottom-right'
    );

    CREATE TABLE tour_steps (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      tour_id UUID NOT NULL REFERENCES tour_definitions(id) ON DELETE CASCADE,
      step_order INTEGER NOT NULL CHECK (step_order >= 0),
      step_key VARCHAR(100) NOT NULL,
      title VARCHAR(200) NOT NULL,
      description TEXT,
      target_element VARCHAR(200),
      content JSONB NOT NULL DEFAULT '{}',
      position position_enum NOT NULL DEFAULT 'bottom',
      "offset" JSONB NOT NULL DEFAULT '{"x": 0, "y": 0}',
      backdrop_enabled BOOLEAN NOT NULL DEFAULT true,
      skip_enabled BOOLEAN NOT NULL DEFAULT true,
      wedding_tip TEXT,
      pro_tip TEXT,
      estimated_time_seconds INTEGER NOT NULL DEFAULT 30 CHECK (estimated_time_seconds >= 0),
      show_conditions JSONB NOT NULL DEFAULT '{}',
      skip_conditions JSONB NOT NULL DEFAULT '{}',
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      UNIQUE (tour_id, step_order),
      UNIQUE (tour_id, step_key)
    );
    CREATE INDEX idx_tour_steps_tour_order ON tour_steps(tour_id, step_order);

    ALTER TABLE tour_steps ENABLE ROW LEVEL SECURITY;
    CREATE POLICY members_view_steps ON tour_steps
      FOR SELECT USING (organization_id = tourhub_org_id());
    CREATE POLICY admins_manage_steps ON tour_steps
      FOR ALL USING (organization_id = tourhub_org_id() AND tourhub_is_admin())
      WITH CHECK (organization_id = tourhub_org_id() AND tourhub_is_admin());

    GRANT SELECT, INSERT, UPDATE, DELETE ON tour_steps TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS tour_steps;
    DROP TYPE IF EXISTS position_enum;
  `);
}
