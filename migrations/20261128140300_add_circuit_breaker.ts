import type { Knex } from 'knex';

// Each integration's circuit breaker (domain/breaker.ts): opened when the integration is judged
// degraded, when the next probe may be made, closed by a probe that succeeds.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE organization_integrations
      ADD COLUMN breaker_state VARCHAR(10) NOT NULL DEFAULT 'closed' CHECK (breaker_state IN ('closed', 'open')),
      ADD COLUMN breaker_opened_at TIMESTAMPTZ,
      ADD COLUMN breaker_next_probe_at TIMESTAMPTZ,
      ADD CONSTRAINT breaker_open_has_probe CHECK (breaker_state = 'closed' OR breaker_next_probe_at IS NOT NULL);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE organization_integrations
      DROP CONSTRAINT IF EXISTS breaker_open_has_probe,
      DROP COLUMN IF EXISTS breaker_next_probe_at,
      DROP COLUMN IF EXISTS breaker_opened_at,
      DROP COLUMN IF EXISTS breaker_state;
  `);
}
