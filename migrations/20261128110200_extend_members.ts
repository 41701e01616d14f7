import type { Knex } from 'knex';

// The people who take tours (issue 11): a member's profile (wedding date, time zone, audience and free
// attributes, which targeting reads), and an organisation's opt-in to creating a member from a token's
// claims on first use. The policy lets a caller insert exactly one row, their own, as a plain member,
// and only in an organisation that opted in: the database holds that line, not only the API.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE organization_members
      ADD COLUMN wedding_date DATE,
      ADD COLUMN time_zone VARCHAR(64),
      ADD COLUMN audience audience_enum,
      ADD COLUMN attributes JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
      ADD COLUMN provisioned_from_token BOOLEAN NOT NULL DEFAULT false,
      ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();
    ALTER TABLE organizations ADD COLUMN auto_provision_members BOOLEAN NOT NULL DEFAULT false;

    CREATE POLICY members_provision_themselves ON organization_members
      FOR INSERT WITH CHECK (
        organization_id = tourhub_org_id() AND user_id = tourhub_user_id() AND role = 'member'
        AND provisioned_from_token
        AND EXISTS (SELECT 1 FROM organizations o WHERE o.id = organization_id AND o.auto_provision_members)
      );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP POLICY IF EXISTS members_provision_themselves ON organization_members;
    ALTER TABLE organizations DROP COLUMN IF EXISTS auto_provision_members;
    ALTER TABLE organization_members
      DROP COLUMN IF EXISTS updated_at,
      DROP COLUMN IF EXISTS provisioned_from_token,
      DROP COLUMN IF EXISTS attributes,
      DROP COLUMN IF EXISTS audience,
      DROP COLUMN IF EXISTS time_zone,
      DROP COLUMN IF EXISTS wedding_date;
  `);
}
