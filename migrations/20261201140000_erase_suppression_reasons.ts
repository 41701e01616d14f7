import type { Knex } from 'knex';

// A suppressed delivery's reason (migrations/20261201120000_add_suppressed_deliveries.ts) names the
// earlier event it repeats, and an event id is `tour:{org}:{user}:{tour}:…`: after an erasure the
// person's id would survive in it. The erasure function anonymises the person's deliveries by their
// workflow id, which it then overwrites, so the reasons are stripped first, by this function, in the
// erasure's transaction (db/repositories/user-data.ts). The status stays: the organisation's records
// still show that a repeat was held back.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION tourhub_strip_user_delivery_reasons(p_user UUID) RETURNS BIGINT
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
    DECLARE
      org UUID := tourhub_org_id();
      n BIGINT;
    BEGIN
      IF org IS NULL OR NOT tourhub_is_admin() THEN
        RAISE EXCEPTION 'only an organisation admin can erase a person''s data' USING ERRCODE = '42501';
      END IF;
      UPDATE integration_deliveries
         SET suppressed_reason = 'a repeat within the suppression window; its details were erased with the person''s data'
       WHERE organization_id = org
         AND workflow_id LIKE 'tour:' || org || ':' || p_user || ':%'
         AND suppressed_reason IS NOT NULL;
      GET DIAGNOSTICS n = ROW_COUNT;
      RETURN n;
    END $$;
    REVOKE ALL ON FUNCTION tourhub_strip_user_delivery_reasons(UUID) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION tourhub_strip_user_delivery_reasons(UUID) TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP FUNCTION IF EXISTS tourhub_strip_user_delivery_reasons(UUID)');
}
