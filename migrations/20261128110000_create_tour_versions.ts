import type { Knex } from 'knex';

// Authoring (issue 11). tour_definitions and tour_steps become the admins' working copy; each publish
// freezes it into tour_versions, immutable (the API role may insert and read, never change or delete a
// version), so a run started on version N reads version N's texts to its end. Tour-level rules join
// the seed's targeting, and every existing tour is published as version 1 as it stands.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE tour_definitions
      ADD COLUMN published_version INTEGER CHECK (published_version > 0),
      ADD COLUMN show_conditions JSONB NOT NULL DEFAULT '{}',
      ADD COLUMN skip_conditions JSONB NOT NULL DEFAULT '{}';

    CREATE TABLE tour_versions (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      tour_id UUID NOT NULL REFERENCES tour_definitions(id) ON DELETE CASCADE,
      version INTEGER NOT NULL CHECK (version > 0),
      definition JSONB NOT NULL,
      steps JSONB NOT NULL CHECK (jsonb_typeof(steps) = 'array'),
      published_by UUID,
      published_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      UNIQUE (tour_id, version)
    );

    ALTER TABLE tour_versions ENABLE ROW LEVEL SECURITY;
    CREATE POLICY members_view_versions ON tour_versions
      FOR SELECT USING (organization_id = tourhub_org_id());
    CREATE POLICY admins_publish_versions ON tour_versions
      FOR INSERT WITH CHECK (organization_id = tourhub_org_id() AND tourhub_is_admin());
    GRANT SELECT, INSERT ON tour_versions TO tourhub_app;

    INSERT INTO tour_versions (organization_id, tour_id, version, definition, steps, published_at)
    SELECT t.organization_id, t.id, 1,
           jsonb_build_object(
             'tour_key', t.tour_key, 'name', t.name, 'description', t.description, 'tour_type', t.tour_type,
             'target_audience', to_jsonb(t.target_audience::text[]), 'wedding_phase', t.wedding_phase,
             'estimated_duration_minutes', t.estimated_duration_minutes,
             'prerequisite_tours', to_jsonb(t.prerequisite_tours), 'show_conditions', t.show_conditions,
             'skip_conditions', t.skip_conditions),
           coalesce((
             SELECT jsonb_agg(jsonb_build_object(
               'id', s.id, 'step_order', s.step_order, 'step_key', s.step_key, 'title', s.title,
               'description', s.description, 'target_element', s.target_element, 'content', s.content,
               'position', s.position, 'offset', s."offset", 'backdrop_enabled', s.backdrop_enabled,
               'skip_enabled', s.skip_enabled, 'wedding_tip', s.wedding_tip, 'pro_tip', s.pro_tip,
               'estimated_time_seconds', s.estimated_time_seconds, 'show_conditions', s.show_conditions,
               'skip_conditions', s.skip_conditions) ORDER BY s.step_order)
             FROM tour_steps s WHERE s.tour_id = t.id), '[]'::jsonb),
           t.updated_at
      FROM tour_definitions t;
    UPDATE tour_definitions SET published_version = 1, version = '1';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS tour_versions;
    UPDATE tour_definitions SET version = '1.0.0';
    ALTER TABLE tour_definitions
      DROP COLUMN IF EXISTS skip_conditions,
      DROP COLUMN IF EXISTS show_conditions,
      DROP COLUMN IF EXISTS published_version;
  `);
}
