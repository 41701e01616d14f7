import type { Knex } from 'knex';

// What a provider without idempotency keys was already sent, per key (connectors may guard sub-steps
// under keys derived from a delivery's). Written before and after each call by the worker.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE delivery_guards (
      idempotency_key VARCHAR(400) PRIMARY KEY,
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      integration_id UUID NOT NULL REFERENCES organization_integrations(id) ON DELETE CASCADE,
      state VARCHAR(10) NOT NULL CHECK (state IN ('attempted', 'sent')),
      reference VARCHAR(400),
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      CHECK (state = 'attempted' OR reference IS NOT NULL)
    );
    CREATE INDEX idx_delivery_guards_integration ON delivery_guards(integration_id, created_at);

    ALTER TABLE delivery_guards ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_view_delivery_guards ON delivery_guards
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_admin());
    GRANT SELECT ON delivery_guards TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS delivery_guards;`);
}
