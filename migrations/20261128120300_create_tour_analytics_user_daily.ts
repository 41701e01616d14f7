import type { Knex } from 'knex';

// What the retention job (workflows/analytics-retention.ts) keeps of a raw event once it is older than
// the retention period (90 days by default): one row per organisation, tour, UTC day, pseudonymous
// person, event type and step, with counts and sums. The person is user_key, HMAC-SHA256 of
// "{organisation}:{user}" under a key the database never sees (ANALYTICS_PSEUDONYM_KEY), so the rows
// still tell returning people apart (cohorts, repeat visits) but cannot be turned back into a user id;
// only a holder of the key can find one person's rows, which the erasure does. Kept two years, like
// tour_analytics_daily.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE tour_analytics_user_daily (
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      tour_id UUID NOT NULL REFERENCES tour_definitions(id) ON DELETE CASCADE,
      day DATE NOT NULL,
      user_key BYTEA NOT NULL CHECK (octet_length(user_key) = 32),
      event_type event_type_enum NOT NULL,
      step_index INTEGER NOT NULL,
      step_key VARCHAR(100) NOT NULL,
      event_count BIGINT NOT NULL CHECK (event_count >= 0),
      interaction_ms_sum BIGINT NOT NULL DEFAULT 0,
      interaction_count BIGINT NOT NULL DEFAULT 0,
      PRIMARY KEY (organization_id, tour_id, day, user_key, event_type, step_index, step_key)
    );
    CREATE INDEX idx_tour_analytics_user_daily_day ON tour_analytics_user_daily(day);
    CREATE INDEX idx_tour_analytics_user_daily_user ON tour_analytics_user_daily(organization_id, user_key);

    ALTER TABLE tour_analytics_user_daily ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_view_user_daily_analytics ON tour_analytics_user_daily
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_admin());
    GRANT SELECT ON tour_analytics_user_daily TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS tour_analytics_user_daily;`);
}
