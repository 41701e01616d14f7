import { z } from 'zod';
import type { ResyncStatus } from '../../../../services/sync';
import { named } from '../../../openapi';
import { iso, timestamp, canonicalUuid } from '../../shared';

const STATUSES = ['queued', 'running', 'completed', 'failed', 'skipped'] as const;
const count = z.number().int().min(0);

export const ResyncView = named(
  'Resync',
  z.strictObject({
    id: canonicalUuid(),
    status: z.enum(STATUSES).describe('Running while any pass is; failed if one failed; completed once all are done'),
    integrations: z.array(
      z.strictObject({
        run_id: canonicalUuid(),
        integration_id: canonicalUuid(),
        provider: z.string(),
        status: z.enum(STATUSES),
        phase: z.enum(['resolve', 'pull', 'compare', 'done']).nullable().describe('Where the pass is'),
        pages: count.describe("Pages read from the provider"),
        pulled: count.describe('Records read that name someone we sync'),
        compared: count,
        pushed: count.describe('Calls planned to bring the provider up to date'),
        accepted: count.describe("Records where the provider's value was taken"),
        conflicts: count.describe('New manual conflicts (GET /api/integrations/conflicts)'),
        error: z.string().nullable().describe('Why the pass failed or was skipped'),
        requested_at: timestamp,
        started_at: timestamp.nullable(),
        finished_at: timestamp.nullable(),
      }),
    ),
  }),
);

export const ResyncEnvelope = z.strictObject({ resync: ResyncView });

export function presentResync(r: ResyncStatus): z.input<typeof ResyncView> {
  return {
    id: r.id,
    status: r.status,
    integrations: r.integrations.map((i) => ({
      run_id: i.run_id,
      integration_id: i.integration_id,
      provider: i.provider,
      status: i.status,
      phase: (i.phase as 'resolve' | 'pull' | 'compare' | 'done' | null) ?? null,
      pages: i.pages,
      pulled: i.pulled,
      compared: i.compared,
      pushed: i.pushed,
      accepted: i.accepted,
      conflicts: i.conflicts,
      error: i.error,
      requested_at: iso(i.requested_at),
      started_at: iso(i.started_at),
      finished_at: iso(i.finished_at),
    })),
  };
}
