import type { Knex } from 'knex';

// Counters of the API's rate limits (rate-limiter-flexible's RateLimiterPostgres layout: key, points,
// expire in epoch ms), shared by every API process. Created here, not by the library at runtime: the API
// connects as tourhub_app, which owns nothing and creates nothing. Keys are `{policy}:{orgId}:{userId}`,
// counters and ids only, no tenant data, and the limiter counts before any tenant context exists, so the
// policy lets the API role see every row; RLS stays on so every table states who may touch it.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE api_rate_limits (
      key VARCHAR(255) PRIMARY KEY,
      points INTEGER NOT NULL DEFAULT 0,
      expire BIGINT
    );
    CREATE INDEX idx_api_rate_limits_expire ON api_rate_limits(expire);
    ALTER TABLE api_rate_limits ENABLE ROW LEVEL SECURITY;
    CREATE POLICY api_counts_requests ON api_rate_limits TO tourhub_app USING (true) WITH CHECK (true);
    GRANT SELECT, INSERT, UPDATE, DELETE ON api_rate_limits TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS api_rate_limits;`);
}
