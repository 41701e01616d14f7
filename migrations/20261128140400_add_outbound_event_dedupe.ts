import type { Knex } from 'knex';

// An outbound event that must be written once, however many workers notice it (an alert per failed
// delivery, one onboarding-complete per tour completion), carries a key; a second insert changes nothing.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE outbound_events ADD COLUMN dedupe_key VARCHAR(400);
    CREATE UNIQUE INDEX uniq_outbound_events_dedupe ON outbound_events(dedupe_key) WHERE dedupe_key IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX IF EXISTS uniq_outbound_events_dedupe;
    ALTER TABLE outbound_events DROP COLUMN IF EXISTS dedupe_key;
  `);
}
