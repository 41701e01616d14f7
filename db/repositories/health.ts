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
  /** Success rate over the judged window below which the integration is degraded. */
  degradedBelow: number;
  /** Fewer attempts than this in the window say nothing either way. */
  minAttempts: number;
  /** How far back degradation is judged (HUB_HEALTH_WINDOW, one hour), never before the last change of health. */
  windowMs?: number;
  /** Consecutive successes since it was degraded that make an integration healthy again (HUB_RECOVERY_SUCCESSES). */
  recoverAfter?: number;
  /** How long the opened breaker waits before its first probe (HUB_BREAKER_PROBE_INTERVAL). */
  probeIntervalMs?: number;
}

export type HealthChange = { to: 'degraded' | 'healthy'; attempts: number; successRate: number | null } | null;

const HOUR_MS = 3_600_000;
export const DEFAULT_RECOVER_AFTER = 3;
export const DEFAULT_PROBE_INTERVAL_MS = 60_000;

interface IntegrationRef {
  id: string;
  organization_id: string;
  provider: string;
}

/**
 * Re-judges one integration after an attempt and, when its health flips, records the flip and events for
 * the organisation's admins. The conditional update makes the flip (and so the notification) happen once,
 * however many workers judge at the same moment. The worker's connection.
 *
 * - Healthy to degraded: the success rate of the attempts within the window (the last hour, but never
 *   before the last change of health, so old failures of an outage already recovered from do not count
 *   twice) is below the threshold, with enough attempts. The breaker opens with it (`integration.degraded`
 *   and `integration.paused`).
 * - Degraded to healthy: the last `recoverAfter` attempts since the flip all succeeded, so a recovery is
 *   noticed as soon as calls succeed again, not once the hour's failures have aged out. (With the
 *   breaker open, the probe that succeeds closes it at once: recordRecovery.)
 */
export async function assessHealth(db: Knex, integration: IntegrationRef, t: HealthThresholds): Promise<HealthChange> {
  const row = await db('organization_integrations').select('health', 'health_changed_at').where({ id: integration.id }).first();
  if (!row || row.health === 'disabled') return null;
  if (row.health === 'degraded') {
    const recoverAfter = t.recoverAfter ?? DEFAULT_RECOVER_AFTER;
    const recent = await db('integration_logs')
      .select('success')
      .where({ integration_id: integration.id })
      .andWhere('processed_at', '>', row.health_changed_at ?? new Date(0))
      .orderBy('processed_at', 'desc')
      .limit(recoverAfter);
    if (recent.length < recoverAfter || !recent.every((r: { success: boolean }) => r.success)) return null;
    return (await recordRecovery(db, integration, { reason: 'consecutive_successes', successes: recoverAfter })) ? { to: 'healthy', attempts: recent.length, successRate: 1 } : null;
  }
  const windowMs = t.windowMs ?? HOUR_MS;
  const since = new Date(Math.max(Date.now() - windowMs, row.health_changed_at ? new Date(row.health_changed_at).getTime() : 0));
  const [figures] = await db('integration_logs')
    .where({ integration_id: integration.id })
    .andWhere('processed_at', '>', since)
    .select(db.raw('count(*)::int as attempts'), db.raw('count(*) filter (where success)::int as succeeded'));
  const attempts = Number(figures?.attempts ?? 0);
  const successRate = attempts === 0 ? null : Number(figures.succeeded) / attempts;
  if (attempts < t.minAttempts || successRate === null || successRate >= t.degradedBelow) return null;
  const probeIntervalMs = t.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
  return db.transaction(async (trx) => {
    const flipped = await trx('organization_integrations')
      .where({ id: integration.id, health: 'healthy' })
      .update({
        health: 'degraded',
        health_changed_at: trx.fn.now(),
        breaker_state: 'open',
        breaker_opened_at: trx.fn.now(),
        breaker_next_probe_at: trx.raw(`now() + (? * interval '1 millisecond')`, [probeIntervalMs]),
        updated_at: trx.fn.now(),
      })
      .returning('id');
    if (flipped.length === 0) return null;
    const figuresPayload = { integration_id: integration.id, provider: integration.provider, success_rate: successRate, attempts, window_seconds: Math.round((Date.now() - since.getTime()) / 1000), threshold: t.degradedBelow };
    await trx('outbound_events').insert([
      { organization_id: integration.organization_id, event_type: 'integration.degraded', subject_id: integration.id, payload: JSON.stringify(figuresPayload) },
      {
        organization_id: integration.organization_id,
        event_type: 'integration.paused',
        subject_id: integration.id,
        payload: JSON.stringify({ integration_id: integration.id, provider: integration.provider, reason: 'degraded', probe_interval_seconds: Math.round(probeIntervalMs / 1000) }),
      },
    ]);
    return { to: 'degraded', attempts, successRate };
  });
}

/**
 * Degraded (or paused) to healthy: health flips back, the breaker closes, and `integration.recovered` is
 * written, once, whichever worker or probe noticed first. Returns whether this call made the change.
 */
export async function recordRecovery(db: Knex, integration: IntegrationRef, how: { reason: 'probe' | 'consecutive_successes'; successes?: number }): Promise<boolean> {
  return db.transaction(async (trx) => {
    const flipped = await trx('organization_integrations')
      .where({ id: integration.id })
      .andWhere((w) => w.where({ health: 'degraded' }).orWhere({ breaker_state: 'open' }))
      .whereNot({ health: 'disabled' })
      .update({
        health: 'healthy',
        health_changed_at: trx.fn.now(),
        breaker_state: 'closed',
        breaker_opened_at: null,
        breaker_next_probe_at: null,
        updated_at: trx.fn.now(),
      })
      .returning('id');
    if (flipped.length === 0) return false;
    await trx('outbound_events').insert({
      organization_id: integration.organization_id,
      event_type: 'integration.recovered',
      subject_id: integration.id,
      payload: JSON.stringify({ integration_id: integration.id, provider: integration.provider, reason: how.reason, ...(how.successes !== undefined ? { successes: how.successes } : {}) }),
    });
    return true;
  });
}

/**
 * The breaker is open and a probe is due: whoever moves the next probe time first makes the call; every
 * other caller keeps waiting. Returns whether this caller holds the probe.
 */
export async function claimProbe(db: Knex, integrationId: string, probeIntervalMs: number): Promise<boolean> {
  const claimed = await db('organization_integrations')
    .where({ id: integrationId, breaker_state: 'open' })
    .andWhere('breaker_next_probe_at', '<=', db.fn.now())
    .update({ breaker_next_probe_at: db.raw(`now() + (? * interval '1 millisecond')`, [probeIntervalMs]) })
    .returning('id');
  return claimed.length > 0;
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
