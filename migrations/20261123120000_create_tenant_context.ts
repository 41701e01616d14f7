import type { Knex } from 'knex';

// Functions the RLS policies call, and the non-owner role the API connects as.
// Roles are cluster-wide: `down` drops it only when no other database still grants it anything.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION tourhub_org_id() RETURNS uuid LANGUAGE sql STABLE AS
      $$ SELECT nullif(current_setting('app.org_id', true), '')::uuid $$;
    CREATE OR REPLACE FUNCTION tourhub_user_id() RETURNS uuid LANGUAGE sql STABLE AS
      $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;
    CREATE OR REPLACE FUNCTION tourhub_is_admin() RETURNS boolean LANGUAGE sql STABLE AS
      $$ SELECT coalesce(current_setting('app.role', true), '') = 'admin' $$;
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tourhub_app') THEN
        CREATE ROLE tourhub_app NOLOGIN;
      END IF;
    END $$;
    GRANT USAGE ON SCHEMA public TO tourhub_app;
    GRANT EXECUTE ON FUNCTION tourhub_org_id(), tourhub_user_id(), tourhub_is_admin() TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    REVOKE USAGE ON SCHEMA public FROM tourhub_app;
    DROP FUNCTION IF EXISTS tourhub_is_admin();
    DROP FUNCTION IF EXISTS tourhub_user_id();
    DROP FUNCTION IF EXISTS tourhub_org_id();
    DO $$ BEGIN
      DROP ROLE IF EXISTS tourhub_app;
    EXCEPTION WHEN dependent_objects_still_exist THEN
      RAISE NOTICE 'tourhub_app is still used by another database; kept';
    END $$;
  `);
}
