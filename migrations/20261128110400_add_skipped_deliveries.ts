import type { Knex } from 'knex';

// A route the hub could not take for want of the member's email or phone is recorded as a delivery
// `skipped`, with the reason, so an admin sees it in the deliveries list instead of nothing (issue 11).
// ADD VALUE cannot be undone in place: `down` rebuilds the type from the values it has now minus
// `skipped` (so values other migrations added survive), after deleting the skipped rows, which record
// calls that were never made.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TYPE delivery_status_enum ADD VALUE IF NOT EXISTS 'skipped';
    ALTER TABLE integration_deliveries ADD COLUMN skip_reason VARCHAR(200);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE integration_deliveries DROP COLUMN IF EXISTS skip_reason;
    DELETE FROM integration_deliveries WHERE status::text = 'skipped';
    DO $$
    DECLARE
      labels text;
    BEGIN
      SELECT string_agg(quote_literal(enumlabel), ', ' ORDER BY enumsortorder) INTO labels
        FROM pg_enum WHERE enumtypid = 'delivery_status_enum'::regtype AND enumlabel <> 'skipped';
      -- A partial index's predicate names the old type's values: rebuilt after the column changes type.
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
