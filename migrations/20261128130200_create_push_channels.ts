import type { Knex } from 'knex';

// Calendar change notifications we asked a provider for: a Google Calendar watch channel or a Microsoft
// Graph subscription, one current per integration, renewed before expires_at by the pushChannel workflow.
// The token Google echoes (X-Goog-Channel-Token) or the clientState Graph echoes is kept only as its
// SHA-256: enough to check a notification, useless to forge one.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE push_channels (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      integration_id UUID NOT NULL REFERENCES organization_integrations(id) ON DELETE CASCADE,
      provider VARCHAR(50) NOT NULL,
      channel_id VARCHAR(200) NOT NULL,
      resource_id VARCHAR(300),
      resource TEXT NOT NULL,
      token_hash CHAR(64) NOT NULL,
      expires_at TIMESTAMPTZ NOT NULL,
      status VARCHAR(20) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'stopped')),
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      UNIQUE (provider, channel_id)
    );
    CREATE INDEX idx_push_channels_integration ON push_channels(integration_id, status);

    ALTER TABLE push_channels ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_view_push_channels ON push_channels
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_admin());
    CREATE POLICY receivers_read_push_channels ON push_channels
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_receiver());
    GRANT SELECT ON push_channels TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS push_channels;`);
}
