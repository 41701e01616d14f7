/**
 * Which deliveries an operator's replay covers, and starting them: shared by the API's replay routes
 * and `tourhub replay`. Selecting takes any connection (a tenant transaction in the API, so RLS decides
 * what exists; the owner connection in the CLI); starting happens after, outside any transaction.
 */
import type { Knex } from 'knex';
import { findReplayCandidate, listDeadCandidates, type ReplayCandidate } from '../db/repositories/deliveries';
import { findIntegration } from '../db/repositories/integrations';
import { ApiError, notFound } from './middleware/errors';
import type { DeliveryReplays } from './temporal';

/** The most deliveries one batch replay starts; the response says how many are left for the next call. */
export const REPLAY_BATCH_LIMIT = 500;
/** How many replay workflows are started at once. */
const START_CONCURRENCY = 8;

export interface StartedReplay {
  delivery_id: string;
  workflow_id: string;
  provider: string;
  action: string;
  event_type: string;
}

export interface FailedReplay {
  delivery_id: string;
  error: string;
}

function refuseDisabled(c: { integration_id: string; provider: string }): ApiError {
  return new ApiError(409, 'integration_disabled', `The ${c.provider} integration is disabled: enable it before replaying, or the replay dies at once`, {
    integration_id: c.integration_id,
  });
}

/** The one delivery to replay, or why not: 404 unknown (or another organisation's), 409 delivered, unreplayable or disabled. */
export async function selectDeliveryReplay(db: Knex, deliveryId: string): Promise<ReplayCandidate> {
  const c = await findReplayCandidate(db, deliveryId);
  if (!c) throw notFound('Delivery', { delivery_id: deliveryId });
  if (c.status === 'succeeded') {
    throw new ApiError(409, 'already_delivered', 'This delivery already succeeded; replaying it would send nothing', { delivery_id: c.id, status: c.status });
  }
  if (!c.has_sealed_action) {
    throw new ApiError(409, 'delivery_not_replayable', 'This delivery was planned before calls were kept for replay; there is nothing to re-send', { delivery_id: c.id });
  }
  if (!c.integration_active) throw refuseDisabled(c);
  return c;
}

export interface IntegrationReplaySelection {
  integrationId: string;
  provider: string;
  candidates: ReplayCandidate[];
  /** Dead deliveries of this integration in all. */
  deadTotal: number;
  /** Dead deliveries in this batch that cannot be replayed (planned before calls were sealed). */
  notReplayable: string[];
}

/** Up to `limit` of the integration's dead deliveries, oldest first. 404 unknown integration, 409 disabled. */
export async function selectIntegrationReplays(db: Knex, integrationId: string, limit = REPLAY_BATCH_LIMIT): Promise<IntegrationReplaySelection> {
  const integration = await findIntegration(db, integrationId);
  if (!integration) throw notFound('Integration', { integration_id: integrationId });
  if (!integration.is_active) throw refuseDisabled({ integration_id: integration.id, provider: integration.provider });
  const { rows, total } = await listDeadCandidates(db, integrationId, limit);
  return {
    integrationId,
    provider: integration.provider,
    candidates: rows.filter((r) => r.has_sealed_action),
    deadTotal: total,
    notReplayable: rows.filter((r) => !r.has_sealed_action).map((r) => r.id),
  };
}

/** What an operator reads in the Temporal UI: which call, never whom it is about. */
export function replaySummary(c: ReplayCandidate): string {
  return `Replay of ${c.provider}: ${c.action} for ${c.event_type} (delivery ${c.id})`;
}

/**
 * Starts (or joins: one replay per delivery at a time) each replay. The first start's failure is thrown
 * (Temporal is down: nothing was started); later failures are reported per delivery.
 */
export async function startReplays(replays: DeliveryReplays, candidates: ReplayCandidate[]): Promise<{ started: StartedReplay[]; failed: FailedReplay[] }> {
  const started: StartedReplay[] = [];
  const failed: FailedReplay[] = [];
  const start = async (c: ReplayCandidate) => {
    const { workflowId } = await replays.replay(c.id, replaySummary(c));
    started.push({ delivery_id: c.id, workflow_id: workflowId, provider: c.provider, action: c.action, event_type: c.event_type });
  };
  const [first, ...rest] = candidates;
  if (!first) return { started, failed };
  await start(first);
  let next = 0;
  const lane = async () => {
    while (next < rest.length) {
      const c = rest[next++]!;
      try {
        await start(c);
      } catch (err) {
        failed.push({ delivery_id: c.id, error: err instanceof Error ? err.message : String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(START_CONCURRENCY, rest.length) }, lane));
  // Oldest first, as selected, whatever order the starts finished in.
  const order = new Map(candidates.map((c, i) => [c.id, i]));
  started.sort((a, b) => order.get(a.delivery_id)! - order.get(b.delivery_id)!);
  return { started, failed };
}
