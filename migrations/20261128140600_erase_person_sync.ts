import type { Knex } from 'knex';

// Two-way sync keeps copies of a couple's details: sync_records (the last agreed name, phone, our user
// id; an event's title "Follow-up consultation with <name>"), sync_conflicts (both values and the user
// id), the staged provider records of a pass, and its own planned calls (integration_deliveries of
// workflow `sync:{integrationId}`, their sealed calls, errors and attempt logs). An erasure removes them
// too. Sync finds a person by record key: their email in lower case (people and customers) or the id of
// an event the hub created for one of their tours. Its calls carry no user id, so they are found by
// key: a push's event id ends with the first 16 hex digits of SHA-256 of the record key
// (activities/sync.ts), a resolution's is `conflict:{id}`.
//
// - tourhub_cancel_user_sync_deliveries: sync's calls for the person not yet sent become `cancelled`,
//   which the deliver activity refuses (the API calls it with tourhub_cancel_user_deliveries, before the
//   workflows are stopped);
// - tourhub_erase_user_sync: called in the erasure's transaction before tourhub_erase_user_tour_data
//   (which deletes the membership and strips the tour deliveries this needs to find the keys): deletes
//   the records, conflicts (and their sync.conflict announcements, whose subject they were) and staged
//   rows, and strips sync's calls for the person as the tour erasure strips the hub's.
// Both check for an admin and stay inside the caller's organisation, like the other erasure functions.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION tourhub_user_sync_keys(org UUID, p_user UUID) RETURNS TEXT[]
      LANGUAGE sql STABLE SET search_path = public AS $$
      SELECT coalesce(array_agg(DISTINCT k), '{}') FROM (
        SELECT lower(email) AS k FROM organization_members
         WHERE organization_id = org AND user_id = p_user AND email IS NOT NULL AND email <> ''
        UNION ALL
        SELECT provider_reference FROM integration_deliveries
         WHERE organization_id = org AND workflow_id LIKE 'tour:' || org || ':' || p_user || ':%'
           AND action = 'calendar.createEvent' AND provider_reference IS NOT NULL
      ) keys
    $$;

    CREATE FUNCTION tourhub_user_sync_deliveries(org UUID, keys TEXT[], conflicts UUID[]) RETURNS UUID[]
      LANGUAGE sql STABLE SET search_path = public AS $$
      SELECT coalesce(array_agg(d.id), '{}') FROM integration_deliveries d
       WHERE d.organization_id = org AND d.workflow_id = 'sync:' || d.integration_id
         AND (d.event_id LIKE ANY (ARRAY(SELECT 'sync:%:' || substr(encode(sha256(convert_to(k, 'UTF8')), 'hex'), 1, 16) FROM unnest(keys) k))
              OR d.event_id = ANY (ARRAY(SELECT 'conflict:' || c FROM unnest(conflicts) c)))
    $$;

    CREATE FUNCTION tourhub_cancel_user_sync_deliveries(p_user UUID) RETURNS BIGINT
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
    DECLARE
      org UUID := tourhub_org_id();
      keys TEXT[];
      conflicts UUID[];
      n BIGINT;
    BEGIN
      IF org IS NULL OR NOT tourhub_is_admin() THEN
        RAISE EXCEPTION 'only an organisation admin can erase a person''s data' USING ERRCODE = '42501';
      END IF;
      keys := tourhub_user_sync_keys(org, p_user);
      SELECT coalesce(array_agg(id), '{}') INTO conflicts FROM sync_conflicts
       WHERE organization_id = org AND (user_id = p_user OR record_key = ANY (keys));
      UPDATE integration_deliveries SET status = 'cancelled', updated_at = now()
       WHERE id = ANY (tourhub_user_sync_deliveries(org, keys, conflicts)) AND status IN ('pending', 'failed', 'dead');
      GET DIAGNOSTICS n = ROW_COUNT;
      RETURN n;
    END $$;

    CREATE FUNCTION tourhub_erase_user_sync(p_user UUID) RETURNS JSONB
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
    DECLARE
      org UUID := tourhub_org_id();
      keys TEXT[];
      conflicts UUID[];
      deliveries UUID[];
      cancelled BIGINT;
      records BIGINT;
    BEGIN
      IF org IS NULL OR NOT tourhub_is_admin() THEN
        RAISE EXCEPTION 'only an organisation admin can erase a person''s data' USING ERRCODE = '42501';
      END IF;
      cancelled := tourhub_cancel_user_sync_deliveries(p_user);
      keys := tourhub_user_sync_keys(org, p_user);
      SELECT coalesce(array_agg(id), '{}') INTO conflicts FROM sync_conflicts
       WHERE organization_id = org AND (user_id = p_user OR record_key = ANY (keys));
      deliveries := tourhub_user_sync_deliveries(org, keys, conflicts);

      UPDATE integration_logs
         SET event_id = 'erased:' || coalesce(delivery_id::text, id::text), user_id = NULL, progress_id = NULL,
             error_message = NULL, response_data = NULL
       WHERE organization_id = org AND delivery_id = ANY (deliveries);
      DELETE FROM delivery_guards g USING integration_deliveries d
       WHERE d.id = ANY (deliveries) AND g.organization_id = org AND g.idempotency_key = d.idempotency_key;
      UPDATE integration_deliveries
         SET workflow_id = 'erased', event_id = 'erased:' || id, idempotency_key = 'erased:' || id,
             sealed_action = NULL, last_error = NULL, provider_reference = NULL, updated_at = now()
       WHERE id = ANY (deliveries);

      DELETE FROM outbound_events WHERE organization_id = org AND event_type = 'sync.conflict' AND subject_id = ANY (conflicts);
      DELETE FROM sync_conflicts WHERE id = ANY (conflicts);
      DELETE FROM sync_remote_records s USING sync_runs r
       WHERE s.run_id = r.id AND r.organization_id = org AND s.record_key = ANY (keys);
      DELETE FROM sync_records WHERE organization_id = org AND record_key = ANY (keys);
      GET DIAGNOSTICS records = ROW_COUNT;
      RETURN jsonb_build_object(
        'sync_records', records,
        'sync_conflicts', cardinality(conflicts),
        'sync_deliveries_cancelled', cancelled,
        'sync_deliveries_anonymised', cardinality(deliveries)
      );
    END $$;

    REVOKE ALL ON FUNCTION tourhub_user_sync_keys(UUID, UUID), tourhub_user_sync_deliveries(UUID, TEXT[], UUID[]),
      tourhub_cancel_user_sync_deliveries(UUID), tourhub_erase_user_sync(UUID) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION tourhub_cancel_user_sync_deliveries(UUID), tourhub_erase_user_sync(UUID) TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP FUNCTION IF EXISTS tourhub_erase_user_sync(UUID);
    DROP FUNCTION IF EXISTS tourhub_cancel_user_sync_deliveries(UUID);
    DROP FUNCTION IF EXISTS tourhub_user_sync_deliveries(UUID, TEXT[], UUID[]);
    DROP FUNCTION IF EXISTS tourhub_user_sync_keys(UUID, UUID);
  `);
}
