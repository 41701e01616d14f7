import type { Db } from '../db/knex';
import { healthStats, listIntegrationHealth, type IntegrationHealthRow, type IntegrationHealthStats } from '../db/repositories/health';
import { withTenant, type Tenant } from '../db/tenant';

/** The seed's delivery target: an integration meets it when at least 95% of the last day's attempts succeeded. */
export const SUCCESS_RATE_TARGET = 0.95;

export interface IntegrationHealth {
  integration: IntegrationHealthRow;
  stats: IntegrationHealthStats;
  /** Null without attempts in the last day: nothing to judge. */
  meetsTarget: boolean | null;
}

/** Every integration of the caller's organisation with its delivery figures (RLS keeps it to the caller's admins). */
export async function integrationHealth(db: Db, auth: Tenant): Promise<{ target: number; integrations: IntegrationHealth[] }> {
  const { rows, stats } = await withTenant(db, auth, async (trx) => {
    const found = await listIntegrationHealth(trx);
    return { rows: found, stats: await healthStats(trx, found.map((r) => r.id)) };
  });
  return {
    target: SUCCESS_RATE_TARGET,
    integrations: rows.map((integration) => {
      const s = stats.get(integration.id)!;
      const rate = s.lastDay.successRate;
      return { integration, stats: s, meetsTarget: rate === null ? null : rate >= SUCCESS_RATE_TARGET };
    }),
  };
}
