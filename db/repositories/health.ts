import type { Knex } from 'knex';

/** One integration's delivery health, as GET /api/integrations/health reports it. */
export interface IntegrationHealthStats {
  integrationId: string;
  lastHour: { attempts: number; succeeded: number; successRate: number | null; p95Ms: number | null };
  lastDay: { attempts: number; succeeded: number; successRate: number | null; p95Ms: number | null };
  dead: number;
  pending: number;
  oldestPendingAt: Date | null;
}

const rate = (ok: number, all: number) => (all === 0 ? null : ok / all);

/**
 * Attempt-level figures from integration_logs (a provider that fails and then succeeds on retry still
 * shows the failures) and delivery-level ones from integration_deliveries. `db` may be a tenant
 * transaction: RLS then limits the rows to the caller's organisation.
 */
export async function healthStats(db: Knex, integrationIds: string[]): Promise<Map<string, IntegrationHealthStats>> {
  const out = new Map<string, IntegrationHealthStats>();
  if (integrationIds.length === 0) return out;
  for (const id of integrationIds) {
    out.set(id, {
      integrationId: id,
      lastHour: { attempts: 0, succeeded: 0, successRate: null, p95Ms: null },
      lastDay: { attempts: 0, succeeded: 0, successRate: null, p95Ms: null },
      dead: 0,
      pending: 0,
      oldestPendingAt: null,
    });
  }
  const logs = await db.raw(
    `select integration_id,
            count(*) filter (where processed_at > now() - interval '1 hour')::int as attempts_hour,
            count(*) filter (where success and processed_at > now() - interval '1 hour')::int as ok_hour,
            count(*)::int as attempts_day,
            count(*) filter (where success)::int as ok_day,
            percentile_cont(0.95) within group (order by processing_duration_ms)
              filter (where processed_at > now() - interval '1 hour') as p95_hour,
            percentile_cont(0.95) within group (order by processing_duration_ms) as p95_day
       from integration_logs
      where integration_id = any(?::uuid[]) and processed_at > now() - interval '1 day'
      group by integration_id`,
    [integrationIds],
  );
  for (const r of logs.rows) {
    const s = out.get(r.integration_id)!;
    s.lastHour = { attempts: r.attempts_hour, succeeded: r.ok_hour, successRate: rate(r.ok_hour, r.attempts_hour), p95Ms: r.p95_hour === null ? null : Number(r.p95_hour) };
    s.lastDay = { attempts: r.attempts_day, succeeded: r.ok_day, successRate: rate(r.ok_day, r.attempts_day), p95Ms: r.p95_day === null ? null : Number(r.p95_day) };
  }
  const deliveries = await db.raw(
    `select integration_id,
            count(*) filter (where status = 'dead')::int as dead,
            count(*) filter (where status in ('pending', 'failed'))::int as pending,
            min(created_at) filter (where status in ('pending', 'failed')) as oldest_pending
       from integration_deliveries
      where integration_id = any(?::uuid[]) and status <> 'succeeded'
      group by integration_id`,
    [integrationIds],
  );
  for (const r of deliveries.rows) {
    const s = out.get(r.integration_id)!;
    s.dead = r.dead;
    s.pending = r.pending;
    s.oldestPendingAt = r.oldest_pending;
  }
  return out;
}

export interface HealthThresholds {
  /** Success rate over the last hour below which the integration is degraded. */
  degradedBelow: number;
  /** Fewer attempts than this in the hour say nothing either way. */
  minAttempts: number;
}

export type HealthChange = { to: 'degraded' | 'healthy'; stats: IntegrationHealthStats } | null;

/**
 * Re-judges one integration after an attempt and, when its health flips, records the flip and an
 * outbound event for the organisation's admins. The conditional update makes the flip (and so the
 * notification) happen once, however many workers judge at the same moment. The worker's connection.
 */
export async function assessHealth(db: Knex, integration: { id: string; organization_id: string; provider: string }, t: HealthThresholds): Promise<HealthChange> {
  const stats = (await healthStats(db, [integration.id])).get(integration.id)!;
  const { attempts, successRate } = stats.lastHour;
  if (attempts < t.minAttempts || successRate === null) return null;
  const to = successRate < t.degradedBelow ? 'degraded' : 'healthy';
  const from = to === 'degraded' ? 'healthy' : 'degraded';
  return db.transaction(async (trx) => {
    const flipped = await trx('organization_integrations')
      .where({ id: integration.id, health: from })
      .update({ health: to, health_changed_at: trx.fn.now(), updated_at: trx.fn.now() })
      .returning('id');
    if (flipped.length === 0) return null;
    await trx('outbound_events').insert({
      organization_id: integration.organization_id,
      event_type: to === 'degraded' ? 'integration.degraded' : 'integration.recovered',
      subject_id: integration.id,
      payload: JSON.stringify({
        integration_id: integration.id,
        provider: integration.provider,
        success_rate_last_hour: successRate,
        attempts_last_hour: attempts,
        threshold: t.degradedBelow,
        dead: stats.dead,
      }),
    });
    return { to, stats };
  });
}

/** An integration as the health report names it. `db` may be a tenant transaction. */
export interface IntegrationHealthRow {
  id: string;
  provider: string;
  type: string;
  health: 'healthy' | 'degraded' | 'disabled';
  health_changed_at: Date | null;
}

export async function listIntegrationHealth(db: Knex): Promise<IntegrationHealthRow[]> {
  return db('organization_integrations')
    .select('id', 'provider', 'type', 'health', 'health_changed_at')
    .orderBy([{ column: 'type' }, { column: 'provider' }, { column: 'id' }]);
}
