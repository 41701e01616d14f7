import type { Knex } from 'knex';

// event_key makes recording idempotent: a retried persistence of the same transition inserts nothing new.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TYPE event_type_enum AS ENUM (
      'tour_started', 'step_viewed', 'step_completed', 'step_skipped',
      'tour_completed', 'tour_abandoned', 'tooltip_clicked',
      'help_requested', 'feedback_submitted', 'error_encountered'
    );

    CREATE TABLE tour_analytics_events (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      event_key VARCHAR(200) UNIQUE,
      user_id UUID NOT NULL,
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      tour_id UUID NOT NULL REFERENCES tour_definitions(id) ON DELETE CASCADE,
      progress_id UUID REFERENCES user_tour_progress(id) ON DELETE CASCADE,
      event_type event_type_enum NOT NULL,
      step_index INTEGER,
      step_key VARCHAR(100),
      event_data JSONB NOT NULL DEFAULT '{}',
      "timestamp" TIMESTAMPTZ NOT NULL DEFAULT now(),
      page_url TEXT,
      referrer TEXT,
      session_id UUID,
      load_time_ms INTEGER CHECK (load_time_ms >= 0),
      interaction_time_ms INTEGER CHECK (interaction_time_ms >= 0),
      created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX idx_tour_analytics_user_date ON tour_analytics_events(user_id, created_at);
    CREATE INDEX idx_tour_analytics_tour_event ON tour_analytics_events(tour_id, event_type);
    CREATE INDEX idx_tour_analytics_org_date ON tour_analytics_events(organization_id, created_at);

    ALTER TABLE tour_analytics_events ENABLE ROW LEVEL SECURITY;
    CREATE POLICY users_insert_own_analytics ON tour_analytics_events
      FOR INSERT WITH CHECK (organization_id = tourhub_org_id() AND user_id = tourhub_user_id());
    CREATE POLICY members_view_analytics ON tour_analytics_events
      FOR SELECT USING (organization_id = tourhub_org_id() AND (user_id = tourhub_user_id() OR tourhub_is_admin()));

    GRANT SELECT, INSERT ON tour_analytics_events TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS tour_analytics_events;
    DROP TYPE IF EXISTS event_type_enum;
  `);
}
