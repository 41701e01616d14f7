import type { Knex } from 'knex';

// The webhooks (issue 13) keep copies of tour events: outbound_events (and through it every
// webhook_deliveries row and attempt, by ON DELETE CASCADE) carry the person's user id and their
// feedback text, and webhook_events keeps each inbound tour event as received. An erasure must remove
// them too. The API's role has no DELETE on either, so a SECURITY DEFINER function scoped to the
// caller's organisation does it, called in the erasure's transaction (db/repositories/user-data.ts).
// Tour events are found three ways because writers differ: the person as subject, the person in the
// payload, or the person's tour run as the ordering key.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION tourhub_erase_user_webhooks(p_user UUID) RETURNS JSONB
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
    DECLARE
      org UUID := tourhub_org_id();
      prefix TEXT;
      outbound BIGINT;
      inbound BIGINT;
    BEGIN
      IF org IS NULL OR NOT tourhub_is_admin() THEN
        RAISE EXCEPTION 'only an organisation admin can erase a person''s data' USING ERRCODE = '42501';
      END IF;
      prefix := 'tour:' || org || ':' || p_user || ':';
      DELETE FROM outbound_events
       WHERE organization_id = org
         AND (subject_id = p_user OR payload->>'user_id' = p_user::text OR ordering_key LIKE prefix || '%');
      GET DIAGNOSTICS outbound = ROW_COUNT;
      DELETE FROM webhook_events
       WHERE organization_id = org AND payload->>'user_id' = p_user::text;
      GET DIAGNOSTICS inbound = ROW_COUNT;
      RETURN jsonb_build_object('outbound_webhook_events', outbound, 'inbound_webhook_events', inbound);
    END $$;
    REVOKE ALL ON FUNCTION tourhub_erase_user_webhooks(UUID) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION tourhub_erase_user_webhooks(UUID) TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP FUNCTION IF EXISTS tourhub_erase_user_webhooks(UUID)');
}
