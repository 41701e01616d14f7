import type { Knex } from 'knex';

// Two-way sync's latest-wins needs to know when our side of a couple's name or phone last changed.
// organization_members.updated_at comes with the member profiles (20261128110200), set by the members
// API; other writers (two-way sync taking a planner's edit, a role change, tourhub org create) do not
// set it, so a trigger does whenever a field sync compares (or the role) changes: no writer can forget.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION tourhub_touch_member_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (NEW.email, NEW.display_name, NEW.phone, NEW.role) IS DISTINCT FROM (OLD.email, OLD.display_name, OLD.phone, OLD.role) THEN
        NEW.updated_at := now();
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER organization_members_touch BEFORE UPDATE ON organization_members
      FOR EACH ROW EXECUTE FUNCTION tourhub_touch_member_updated_at();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER IF EXISTS organization_members_touch ON organization_members;
    DROP FUNCTION IF EXISTS tourhub_touch_member_updated_at();
  `);
}
