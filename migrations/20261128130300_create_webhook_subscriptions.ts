import type { Knex } from 'knex';

// Outbound webhooks. outbound_events is the outbox every writer adds to (integration health, admin
// alerts, tour events); the relay (services/webhook-relay.ts) fans each row out, in seq order, into one
// webhook_deliveries row per subscription whose filter matches, and the webhookLane workflow of each
// (subscription, ordering key) sends them in seq order. Every attempt is a row of its own.
//
// outbound_events gains:
// - seq: the order rows were written in (the lane's order);
// - ordering_key: the events that must arrive in order (a tour run's workflow id); null orders by org;
// - dedupe_key: a writer that may run twice (a retried activity) writes one row;
// - relayed_at: set once fanned out.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE outbound_events
      ADD COLUMN seq BIGSERIAL,
      ADD COLUMN ordering_key VARCHAR(300),
      ADD COLUMN dedupe_key VARCHAR(300),
      ADD COLUMN relayed_at TIMESTAMPTZ;
    ALTER TABLE outbound_events ADD CONSTRAINT outbound_events_dedupe_key_key UNIQUE (dedupe_key);
    -- Rows written before the relay existed were shown as notifications only; they are not sent now.
    UPDATE outbound_events SET relayed_at = created_at;
    CREATE INDEX idx_outbound_events_unrelayed ON outbound_events(seq) WHERE relayed_at IS NULL;

    CREATE TYPE webhook_subscription_status_enum AS ENUM ('active', 'paused');
    CREATE TABLE webhook_subscriptions (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      url TEXT NOT NULL CHECK (url LIKE 'https://%'),
      description VARCHAR(200),
      event_types TEXT[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 50),
      sealed_secret JSONB NOT NULL,
      previous_sealed_secret JSONB,
      previous_secret_expires_at TIMESTAMPTZ,
      status webhook_subscription_status_enum NOT NULL DEFAULT 'active',
      paused_at TIMESTAMPTZ,
      paused_reason TEXT,
      failing_since TIMESTAMPTZ,
      consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX idx_webhook_subscriptions_org ON webhook_subscriptions(organization_id, created_at);
    ALTER TABLE webhook_subscriptions ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_manage_webhook_subscriptions ON webhook_subscriptions
      FOR ALL USING (organization_id = tourhub_org_id() AND tourhub_is_admin())
      WITH CHECK (organization_id = tourhub_org_id() AND tourhub_is_admin());
    GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_subscriptions TO tourhub_app;

    CREATE TYPE webhook_delivery_status_enum AS ENUM ('pending', 'succeeded', 'failed');
    CREATE TABLE webhook_deliveries (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      subscription_id UUID NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
      event_id UUID NOT NULL REFERENCES outbound_events(id) ON DELETE CASCADE,
      event_seq BIGINT NOT NULL,
      ordering_key VARCHAR(300) NOT NULL,
      status webhook_delivery_status_enum NOT NULL DEFAULT 'pending',
      attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      last_status_code INTEGER,
      last_error TEXT,
      signalled_at TIMESTAMPTZ,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      delivered_at TIMESTAMPTZ,
      UNIQUE (subscription_id, event_id)
    );
    CREATE INDEX idx_webhook_deliveries_lane ON webhook_deliveries(subscription_id, ordering_key, event_seq) WHERE status = 'pending';
    CREATE INDEX idx_webhook_deliveries_list ON webhook_deliveries(subscription_id, created_at DESC, id DESC);
    ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_view_webhook_deliveries ON webhook_deliveries
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_admin());
    -- A resend puts a delivery back in its lane: status, signalled_at and updated_at only.
    CREATE POLICY admins_resend_webhook_deliveries ON webhook_deliveries
      FOR UPDATE USING (organization_id = tourhub_org_id() AND tourhub_is_admin())
      WITH CHECK (organization_id = tourhub_org_id() AND tourhub_is_admin());
    GRANT SELECT ON webhook_deliveries TO tourhub_app;
    GRANT UPDATE (status, signalled_at, updated_at) ON webhook_deliveries TO tourhub_app;

    CREATE TABLE webhook_delivery_attempts (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      delivery_id UUID NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
      attempt INTEGER NOT NULL CHECK (attempt >= 1),
      success BOOLEAN NOT NULL,
      status_code INTEGER,
      error TEXT,
      response_excerpt VARCHAR(500),
      duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
      attempted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      UNIQUE (delivery_id, attempt)
    );
    ALTER TABLE webhook_delivery_attempts ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admins_view_webhook_attempts ON webhook_delivery_attempts
      FOR SELECT USING (organization_id = tourhub_org_id() AND tourhub_is_admin());
    GRANT SELECT ON webhook_delivery_attempts TO tourhub_app;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS webhook_delivery_attempts;
    DROP TABLE IF EXISTS webhook_deliveries;
    DROP TYPE IF EXISTS webhook_delivery_status_enum;
    DROP TABLE IF EXISTS webhook_subscriptions;
    DROP TYPE IF EXISTS webhook_subscription_status_enum;
    DROP INDEX IF EXISTS idx_outbound_events_unrelayed;
    ALTER TABLE outbound_events DROP CONSTRAINT IF EXISTS outbound_events_dedupe_key_key;
    ALTER TABLE outbound_events
      DROP COLUMN IF EXISTS relayed_at,
      DROP COLUMN IF EXISTS dedupe_key,
      DROP COLUMN IF EXISTS ordering_key,
      DROP COLUMN IF EXISTS seq;
  `);
}
