import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TYPE member_role_enum AS ENUM ('admin', 'member');

    CREATE TABLE organizations (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      slug VARCHAR(63) NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
      name VARCHAR(200) NOT NULL,
      time_zone VARCHAR(64) NOT NULL DEFAULT 'UTC',
      subscription_tier VARCHAR(30) NOT NULL DEFAULT 'free',
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );

    CREATE TABLE organization_members (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      user_id UUID NOT NULL,
      role member_role_enum NOT NULL DEFAULT 'member',
      email VARCHAR(320),
      display_name VARCHAR(200),
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      UNIQUE (organization_id, user_id)
    );
    CREATE INDEX idx_org_members_user ON organization_members(user_id);

    ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
    ALTER TABLE organization_members ENABLE ROW LEVEL SECURITY;

    CREATE POLICY org_visible_to_members ON organizations
      FOR SELECT USING (id = tourhub_org_id());
    CREATE POLICY org_updated_by_admins ON organizations
      FOR UPDATE USING (id = tourhub_org_id() AND tourhub_is_admin());

    CREATE POLICY members_see_themselves ON organization_members
      FOR SELECT USING (organization_id = tourhub_org_id() AND (user_id = tourhub_user_id() OR tourhub_is_admin()));
    CREATE POLICY admins_manage_members ON organization_members
      FOR ALL USING (organization_id = tourhub_org_id() AND tourhub_is_admin())
      WITH CHECK (organization_id = tourhub_org_id() AND tourhub_is_admin());

    GRANT SELECT, UPDATE ON organizations TO tourhub_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON organization_members TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS organization_members;
    DROP TABLE IF EXISTS organizations;
    DROP TYPE IF EXISTS member_role_enum;
  `);
}
