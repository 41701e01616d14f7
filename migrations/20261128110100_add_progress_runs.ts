import type { Knex } from 'knex';

// A progress row records its run (issue 11): the published version it started on, the steps this
// person's targeting rules kept (null: every step of the version), and the A/B variant it was shown.
// The variant stays on the run when its test is deleted, as a record of what the person saw.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE user_tour_progress
      ADD COLUMN tour_version INTEGER CHECK (tour_version > 0),
      ADD COLUMN step_keys TEXT[],
      ADD COLUMN ab_test_id UUID,
      ADD COLUMN ab_variant CHAR(1) CHECK (ab_variant IN ('a', 'b')),
      ADD CONSTRAINT progress_variant_with_test CHECK ((ab_test_id IS NULL) = (ab_variant IS NULL));
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE user_tour_progress
      DROP CONSTRAINT IF EXISTS progress_variant_with_test,
      DROP COLUMN IF EXISTS ab_variant,
      DROP COLUMN IF EXISTS ab_test_id,
      DROP COLUMN IF EXISTS step_keys,
      DROP COLUMN IF EXISTS tour_version;
  `);
}
