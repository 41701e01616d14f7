import type { Knex } from 'knex';

// A tour restart loop must not send a fresh round of provider effects on every loop: a repeated
// tour_started or tour_completed within the configured window is recorded as `suppressed`, with the
// reason, instead of being sent. The index serves the planner's look-up of an earlier effect.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TYPE delivery_status_enum ADD VALUE IF NOT EXISTS 'suppressed';
    ALTER TABLE integration_deliveries ADD COLUMN suppressed_reason TEXT;
    CREATE INDEX idx_deliveries_repeats ON integration_deliveries(integration_id, workflow_id, event_type, created_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  // Postgres cannot drop an enum value: the type is rebuilt from the labels it has now, less this one
  // (other migrations add labels of their own), and suppressed rows (never sent) go. The partial index on
  // status compares with the old type, so it is rebuilt around the change.
  await knex.raw(`
    DROP INDEX IF EXISTS idx_deliveries_repeats;
    DELETE FROM integration_deliveries WHERE status = 'suppressed';
    ALTER TABLE integration_deliveries DROP COLUMN IF EXISTS suppressed_reason;
    DO $$
    DECLARE labels TEXT;
    BEGIN
      SELECT string_agg(quote_literal(enumlabel), ', ' ORDER BY enumsortorder) INTO labels
        FROM pg_enum WHERE enumtypid = 'delivery_status_enum'::regtype AND enumlabel <> 'suppressed';
      DROP INDEX IF EXISTS idx_deliveries_pending_age;
      ALTER TYPE delivery_status_enum RENAME TO delivery_status_enum_old;
      EXECUTE 'CREATE TYPE delivery_status_enum AS ENUM (' || labels || ')';
      ALTER TABLE integration_deliveries ALTER COLUMN status DROP DEFAULT;
      ALTER TABLE integration_deliveries ALTER COLUMN status TYPE delivery_status_enum USING status::text::delivery_status_enum;
      ALTER TABLE integration_deliveries ALTER COLUMN status SET DEFAULT 'pending';
      DROP TYPE delivery_status_enum_old;
      CREATE INDEX idx_deliveries_pending_age ON integration_deliveries(integration_id, created_at)
        WHERE status IN ('pending', 'failed');
    END $$;
  `);
}
