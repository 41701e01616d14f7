import { z } from 'zod';
import { endpoint } from '../../endpoint';
import { iso, timestamp, canonicalUuid } from '../shared';

const rate = z.number().min(0).max(1).nullable().describe('Share of attempts that succeeded; null without attempts');
const ms = z.number().int().min(0).nullable();
const count = z.number().int().min(0);

const IntegrationHealthView = z.strictObject({
  id: canonicalUuid(),
  provider: z.string(),
  type: z.string(),
  health: z.enum(['healthy', 'degraded', 'disabled']),
  health_changed_at: timestamp.nullable(),
  success_rate_last_hour: rate,
  success_rate_last_day: rate,
  p95_ms_last_hour: ms,
  p95_ms_last_day: ms,
  attempts_last_hour: count.describe('Attempts, so retries count'),
  attempts_last_day: count,
  dead: count,
  pending: count.describe('Pending or failed, still being retried'),
  oldest_pending_at: timestamp.nullable(),
  meets_target: z.boolean().nullable().describe("The last day's success rate is at least the target; null without attempts"),
});

const roundMs = (ms: number | null) => (ms === null ? null : Math.round(ms));

export const integrationHealth = endpoint({
  operationId: 'getIntegrationHealth',
  method: 'get',
  path: '/api/integrations/health',
  tag: 'Integrations',
  summary: 'Delivery health per integration: success rates, p95 latency, dead and pending deliveries',
  access: 'admin',
  responses: {
    200: {
      description: 'Every integration of the organisation',
      json: z.strictObject({ target: z.strictObject({ success_rate_last_day: z.number() }), integrations: z.array(IntegrationHealthView) }),
    },
  },
  errors: [],
}).handle(async ({ auth }, ctx) => {
  const report = await ctx.integrationHealth(auth);
  return {
    status: 200,
    body: {
      target: { success_rate_last_day: report.target },
      integrations: report.integrations.map(({ integration: r, stats: s, meetsTarget }) => ({
        id: r.id,
        provider: r.provider,
        type: r.type,
        health: r.health,
        health_changed_at: iso(r.health_changed_at),
        success_rate_last_hour: s.lastHour.successRate,
        success_rate_last_day: s.lastDay.successRate,
        p95_ms_last_hour: roundMs(s.lastHour.p95Ms),
        p95_ms_last_day: roundMs(s.lastDay.p95Ms),
        attempts_last_hour: s.lastHour.attempts,
        attempts_last_day: s.lastDay.attempts,
        dead: s.dead,
        pending: s.pending,
        oldest_pending_at: iso(s.oldestPendingAt),
        meets_target: meetsTarget,
      })),
    },
  };
});
