import type { Knex } from 'knex';

// A person's tour data, erased on an admin's request (GDPR article 17), in one transaction, by two
// functions the API's role may call but whose writes it could not make itself (it has no DELETE on
// these tables, and row-level security limits it to reads of most of them). Each function checks that
// the caller is an admin and acts only inside the caller's organisation.
//
// - tourhub_cancel_user_deliveries: the person's deliveries not yet sent (pending, retrying or dead,
//   awaiting a replay) become `cancelled`, which the deliver activity refuses to send. The API calls it
//   before it stops the person's workflows, so an attempt starting meanwhile sends nothing.
// - tourhub_erase_user_tour_data: after the workflows are gone, deletes the progress (and through it
//   the sync state), events, pseudonymous aggregates (found by the key the API computes), A/B
//   assignments and the membership row (email, name, phone); keeps the organisation's delivery records
//   with everything that named the person removed (workflow, event and idempotency ids, the sealed
//   call, errors, provider references) so its counts stay true; drops the delivery guards keyed by the
//   person's workflow. The anonymous daily counts (tour_analytics_daily) name nobody and stay.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TYPE delivery_status_enum ADD VALUE IF NOT EXISTS 'cancelled'`);
  await knex.raw(`
    CREATE FUNCTION tourhub_cancel_user_deliveries(p_user UUID) RETURNS BIGINT
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
    DECLARE
      org UUID := tourhub_org_id();
      n BIGINT;
    BEGIN
      IF org IS NULL OR NOT tourhub_is_admin() THEN
        RAISE EXCEPTION 'only an organisation admin can erase a person''s data' USING ERRCODE = '42501';
      END IF;
      UPDATE integration_deliveries
         SET status = 'cancelled', updated_at = now()
       WHERE organization_id = org
         AND workflow_id LIKE 'tour:' || org || ':' || p_user || ':%'
         AND status IN ('pending', 'failed', 'dead');
      GET DIAGNOSTICS n = ROW_COUNT;
      RETURN n;
    END $$;

    CREATE FUNCTION tourhub_erase_user_tour_data(p_user UUID, p_user_key BYTEA) RETURNS JSONB
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
    DECLARE
      org UUID := tourhub_org_id();
      prefix TEXT;
      deliveries UUID[];
      cancelled BIGINT;
      result JSONB := '{}'::jsonb;
      n BIGINT;
    BEGIN
      IF org IS NULL OR NOT tourhub_is_admin() THEN
        RAISE EXCEPTION 'only an organisation admin can erase a person''s data' USING ERRCODE = '42501';
      END IF;
      prefix := 'tour:' || org || ':' || p_user || ':';
      cancelled := tourhub_cancel_user_deliveries(p_user);
      result := result || jsonb_build_object('deliveries_cancelled', cancelled);

      SELECT coalesce(array_agg(id), '{}') INTO deliveries
        FROM integration_deliveries WHERE organization_id = org AND workflow_id LIKE prefix || '%';
      UPDATE integration_logs
         SET event_id = 'erased:' || coalesce(delivery_id::text, id::text), user_id = NULL, progress_id = NULL,
             error_message = NULL, response_data = NULL
       WHERE organization_id = org AND (delivery_id = ANY (deliveries) OR user_id = p_user OR event_id LIKE prefix || '%');
      DELETE FROM delivery_guards WHERE organization_id = org AND idempotency_key LIKE prefix || '%';
      UPDATE integration_deliveries
         SET workflow_id = 'erased', event_id = 'erased:' || id, idempotency_key = 'erased:' || id,
             sealed_action = NULL, last_error = NULL, provider_reference = NULL, updated_at = now()
       WHERE id = ANY (deliveries);
      result := result || jsonb_build_object('deliveries_anonymised', cardinality(deliveries));

      DELETE FROM tour_analytics_events WHERE organization_id = org AND user_id = p_user;
      GET DIAGNOSTICS n = ROW_COUNT;
      result := result || jsonb_build_object('events', n);
      DELETE FROM tour_analytics_user_daily WHERE organization_id = org AND user_key = p_user_key;
      GET DIAGNOSTICS n = ROW_COUNT;
      result := result || jsonb_build_object('pseudonymised_aggregates', n);
      DELETE FROM tour_ab_assignments WHERE organization_id = org AND user_id = p_user;
      GET DIAGNOSTICS n = ROW_COUNT;
      result := result || jsonb_build_object('ab_assignments', n);
      DELETE FROM user_tour_progress WHERE organization_id = org AND user_id = p_user;
      GET DIAGNOSTICS n = ROW_COUNT;
      result := result || jsonb_build_object('progress', n);
      DELETE FROM outbound_events WHERE organization_id = org AND subject_id = p_user;
      DELETE FROM organization_members WHERE organization_id = org AND user_id = p_user;
      GET DIAGNOSTICS n = ROW_COUNT;
      RETURN result || jsonb_build_object('membership', n);
    END $$;

    REVOKE ALL ON FUNCTION tourhub_cancel_user_deliveries(UUID), tourhub_erase_user_tour_data(UUID, BYTEA) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION tourhub_cancel_user_deliveries(UUID), tourhub_erase_user_tour_data(UUID, BYTEA) TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  // Postgres cannot drop an enum value: the type is rebuilt from every other label (whatever later
  // migrations added stays), after cancelled deliveries fall back to dead.
  await knex.raw(`
    DROP FUNCTION IF EXISTS tourhub_erase_user_tour_data(UUID, BYTEA);
    DROP FUNCTION IF EXISTS tourhub_cancel_user_deliveries(UUID);
    UPDATE integration_deliveries SET status = 'dead' WHERE status = 'cancelled';
    DO $$
    DECLARE labels TEXT;
    BEGIN
      SELECT string_agg(quote_literal(enumlabel), ', ' ORDER BY enumsortorder) INTO labels
        FROM pg_enum WHERE enumtypid = 'delivery_status_enum'::regtype AND enumlabel <> 'cancelled';
      -- A partial index's predicate names the old type's labels: rebuilt after the change.
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
