import type { Knex } from 'knex';

// An A/B test's starts and completions are counted from its runs' analytics events, which issue 12's
// retention rolls up and deletes after ANALYTICS_RETENTION_DAYS; its pseudonymous aggregates do not
// say which test or variant a run was in. So before a day's raw events go, the first start and the first
// completion in each test are carried onto the person's assignment (already pseudonymous: a hash of
// test and user), and the results count both. Without this a test running past the retention period
// would lose its early outcomes while keeping their exposures, and its conversion rates would sink.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE tour_ab_assignments
      ADD COLUMN started_at TIMESTAMPTZ,
      ADD COLUMN completed_at TIMESTAMPTZ;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE tour_ab_assignments
      DROP COLUMN IF EXISTS completed_at,
      DROP COLUMN IF EXISTS started_at;
  `);
}
