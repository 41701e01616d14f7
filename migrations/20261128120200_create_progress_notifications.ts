import type { Knex } from 'knex';

// Every write that moves a progress row to a new version (the API's projection of an update, the
// workflow's flush) announces it on the `tour_progress` channel, in the writing transaction, so the
// announcement goes out exactly when the row is committed and never for a write that rolled back or
// changed nothing (saveTransition skips a version it already has). Every API process LISTENs once and
// fans it out to its open streams (services/progress-feed.ts).
//
// The payload is ids and the version only: any role on this database may LISTEN on any channel, so it
// names nobody; a stream reads the row itself, under its subscriber's row-level security.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION tourhub_notify_progress() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' OR NEW.version IS DISTINCT FROM OLD.version THEN
        PERFORM pg_notify('tour_progress', json_build_object('p', NEW.id, 'v', NEW.version)::text);
      END IF;
      RETURN NULL;
    END $$;

    CREATE TRIGGER tour_progress_notify AFTER INSERT OR UPDATE ON user_tour_progress
      FOR EACH ROW EXECUTE FUNCTION tourhub_notify_progress();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER IF EXISTS tour_progress_notify ON user_tour_progress;
    DROP FUNCTION IF EXISTS tourhub_notify_progress();
  `);
}
