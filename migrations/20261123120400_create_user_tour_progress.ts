import type { Knex } from 'knex';

// Written only by the tour workflow (owner connection); `version` is monotonic so a retried or
// reordered write can never move a tour backwards. Members read their own rows, admins their org's.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TYPE progress_status_enum AS ENUM ('not_started', 'in_progress', 'completed', 'abandoned', 'skipped_all');
    CREATE TYPE device_enum AS ENUM ('desktop', 'tablet', 'mobile', 'unknown');

    CREATE TABLE user_tour_progress (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id UUID NOT NULL,
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      tour_id UUID NOT NULL REFERENCES tour_definitions(id) ON DELETE CASCADE,
      status progress_status_enum NOT NULL DEFAULT 'not_started',
      current_step_index INTEGER NOT NULL DEFAULT 0 CHECK (current_step_index >= 0),
      completed_steps INTEGER[] NOT NULL DEFAULT ARRAY[]::INTEGER[],
      skipped_steps INTEGER[] NOT NULL DEFAULT ARRAY[]::INTEGER[],
      total_steps INTEGER NOT NULL DEFAULT 0 CHECK (total_steps >= 0),
      version INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0),
      workflow_id VARCHAR(255) NOT NULL,
      started_at TIMESTAMPTZ,
      completed_at TIMESTAMPTZ,
      last_interaction_at TIMESTAMPTZ DEFAULT now(),
      total_time_seconds INTEGER NOT NULL DEFAULT 0 CHECK (total_time_seconds >= 0),
      user_rating INTEGER CHECK (user_rating >= 1 AND user_rating <= 5),
      feedback TEXT,
      was_helpful BOOLEAN,
      device_type device_enum,
      user_agent TEXT,
      viewport_size JSONB,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      UNIQUE (user_id, organization_id, tour_id)
    );
    CREATE INDEX idx_tour_progress_user_org ON user_tour_progress(user_id, organization_id);
    CREATE INDEX idx_tour_progress_status ON user_tour_progress(status);
    CREATE INDEX idx_tour_progress_updated ON user_tour_progress(updated_at);
    CREATE INDEX idx_active_progress ON user_tour_progress(id) WHERE status IN ('not_started', 'in_progress');

    ALTER TABLE user_tour_progress ENABLE ROW LEVEL SECURITY;
    CREATE POLICY users_view_own_progress ON user_tour_progress
      FOR SELECT USING (organization_id = tourhub_org_id() AND (user_id = tourhub_user_id() OR tourhub_is_admin()));
    CREATE POLICY users_write_own_progress ON user_tour_progress
      FOR ALL USING (organization_id = tourhub_org_id() AND user_id = tourhub_user_id())
      WITH CHECK (organization_id = tourhub_org_id() AND user_id = tourhub_user_id());

    GRANT SELECT, INSERT, UPDATE ON user_tour_progress TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS user_tour_progress;
    DROP TYPE IF EXISTS device_enum;
    DROP TYPE IF EXISTS progress_status_enum;
  `);
}
