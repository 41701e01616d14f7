import type { Knex } from 'knex';

// Two-way sync's latest-wins needs to know when our side of a couple's name or phone last changed:
// a member row carries its last update, kept by a trigger so no writer can forget it.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE organization_members ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();
    UPDATE organization_members SET updated_at = created_at;
    CREATE OR REPLACE FUNCTION tourhub_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (NEW.email, NEW.display_name, NEW.phone, NEW.role) IS DISTINCT FROM (OLD.email, OLD.display_name, OLD.phone, OLD.role) THEN
        NEW.updated_at := now();
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER organization_members_touch BEFORE UPDATE ON organization_members
      FOR EACH ROW EXECUTE FUNCTION tourhub_touch_updated_at();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER IF EXISTS organization_members_touch ON organization_members;
    DROP FUNCTION IF EXISTS tourhub_touch_updated_at();
    ALTER TABLE organization_members DROP COLUMN IF EXISTS updated_at;
  `);
}
