import type { Knex } from 'knex';

// One row per OAuth consent started: the state's nonce, who started it, a hash of the cookie that binds
// it to their browser, and the PKCE verifier the code exchange sends. The callback consumes the row
// (consumed_at) in the same statement that checks it, so a state works once. The verifier is stored as
// is: it is worthless without the authorisation code, which never touches the database, and the row is
// dead ten minutes after it was made. Only the admin who started a consent can see or consume it.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE oauth_states (
      id UUID PRIMARY KEY,
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      user_id UUID NOT NULL,
      provider VARCHAR(50) NOT NULL,
      browser_hash CHAR(64) NOT NULL,
      code_verifier VARCHAR(128) NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      expires_at TIMESTAMPTZ NOT NULL,
      consumed_at TIMESTAMPTZ,
      CHECK (expires_at > created_at)
    );
    CREATE INDEX idx_oauth_states_starter ON oauth_states(organization_id, user_id, expires_at);

    ALTER TABLE oauth_states ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_own_consents ON oauth_states
      FOR ALL USING (organization_id = tourhub_org_id() AND user_id = tourhub_user_id() AND tourhub_is_admin())
      WITH CHECK (organization_id = tourhub_org_id() AND user_id = tourhub_user_id() AND tourhub_is_admin());

    GRANT SELECT, INSERT, UPDATE, DELETE ON oauth_states TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS oauth_states;`);
}
