/**
 * Replaying dead deliveries: which deliveries a replay covers, and starting them. The API's replay routes
 * and `tourhub replay` call the same two functions and differ only in their scope: a tenant transaction
 * in the API (so row-level security decides what exists), an owner transaction in the CLI. Only a dead
 * delivery is replayed: a pending, retrying or running one would race its original. Each replay claims
 * its delivery (dead -> pending) and starts its workflow in one transaction, so of two replays racing on
 * one delivery exactly one starts, and a start that fails leaves the delivery dead.
 */
import type { Knex } from 'knex';
import { claimDeadForReplay, findReplayCandidate, listDeadCandidates, type DeliveryStatus, type ReplayCandidate } from '../db/repositories/deliveries';
import { findIntegration } from '../db/repositories/integrations';
import { notFound, ok, refuse, type Result } from './result';
import { WorkflowServiceError, type DeliveryReplays, type WorkflowServiceErrorCode } from './temporal';

/** The most deliveries one batch replay starts; the answer says how many are left for the next call. */
export const REPLAY_BATCH_LIMIT = 500;
/** How many replays are claimed and started at once: each holds a pooled connection while it starts. */
const START_CONCURRENCY = 4;

/** Runs `fn` in a transaction: `withTenant` for an API caller, an owner transaction for the CLI. */
export type Scope = <T>(fn: (db: Knex) => Promise<T>) => Promise<T>;

export interface ReplayDeps {
  scope: Scope;
  replays: DeliveryReplays;
}

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

export type DeliveryReplayRefusal = 'not_found' | 'already_delivered' | 'delivery_not_dead' | 'delivery_not_replayable' | 'delivery_skipped' | 'integration_disabled' | WorkflowServiceErrorCode;
export type IntegrationReplayRefusal = 'not_found' | 'integration_disabled' | WorkflowServiceErrorCode;

export interface IntegrationReplayOutcome {
  integrationId: string;
  started: StartedReplay[];
  /** Starts that failed after the first one went through (the first one's failure is a refusal). */
  failed: FailedReplay[];
  /** Dead deliveries of this integration in all. */
  deadTotal: number;
  /** Dead deliveries in this batch that cannot be replayed (planned before calls were sealed). */
  notReplayable: string[];
  /** Dead deliveries past this batch: the caller runs the replay again once these have run. */
  remaining: number;
  limit: number;
}

function refuseDisabled(c: { integration_id: string; provider: string }) {
  return refuse('integration_disabled', `The ${c.provider} integration is disabled: enable it before replaying, or the replay dies at once`, {
    integration_id: c.integration_id,
  });
}

function refuseNotDead(deliveryId: string, status: DeliveryStatus | undefined) {
  return refuse(
    'delivery_not_dead',
    `Only a dead delivery is replayed; this one is ${status ?? 'being replayed'} (a replay now would race the call still owed or under way)`,
    { delivery_id: deliveryId, status: status ?? null },
  );
}

/** Replays one delivery: refused when unknown (or another organisation's), delivered, not dead, unreplayable or disabled. */
export async function replayDelivery(deps: ReplayDeps, deliveryId: string): Promise<Result<StartedReplay, DeliveryReplayRefusal>> {
  const c = await deps.scope((db) => findReplayCandidate(db, deliveryId));
  if (!c) return notFound('Delivery', { delivery_id: deliveryId });
  if (c.status === 'succeeded') {
    return refuse('already_delivered', 'This delivery already succeeded; replaying it would send nothing', { delivery_id: c.id, status: c.status });
  }
  if (c.status === 'skipped') {
    return refuse('delivery_skipped', 'This route was skipped for want of the member\'s email or phone: nothing was planned to send. Add the detail to the member; later events reach the provider', {
      delivery_id: c.id,
    });
  }
  if (c.status !== 'dead') return refuseNotDead(c.id, c.status);
  if (!c.has_sealed_action) {
    return refuse('delivery_not_replayable', 'This delivery was planned before calls were kept for replay; there is nothing to re-send', { delivery_id: c.id });
  }
  if (!c.integration_active) return refuseDisabled(c);
  const result = await startReplays(deps, [c]);
  if (!result.ok) return result;
  const [started] = result.value.started;
  if (started) return ok(started);
  // Claimed by a concurrent replay between the check above and the claim.
  return refuseNotDead(c.id, result.value.lost[0]?.status);
}

/** Replays up to `limit` of the integration's dead deliveries, oldest first. Refused when unknown or disabled. */
export async function replayIntegration(
  deps: ReplayDeps,
  integrationId: string,
  limit = REPLAY_BATCH_LIMIT,
): Promise<Result<IntegrationReplayOutcome, IntegrationReplayRefusal>> {
  const selection = await deps.scope(async (db) => {
    const integration = await findIntegration(db, integrationId);
    if (!integration) return notFound('Integration', { integration_id: integrationId });
    if (!integration.is_active) return refuseDisabled({ integration_id: integration.id, provider: integration.provider });
    return ok(await listDeadCandidates(db, integrationId, limit));
  });
  if (!selection.ok) return selection;
  const { rows, total } = selection.value;
  const candidates = rows.filter((r) => r.has_sealed_action);
  const notReplayable = rows.filter((r) => !r.has_sealed_action).map((r) => r.id);
  const started = await startReplays(deps, candidates);
  if (!started.ok) return started;
  const lost = started.value.lost.map((l) => ({ delivery_id: l.delivery_id, error: `not dead any more (${l.status ?? 'being replayed'}): a concurrent replay took it` }));
  return ok({
    integrationId,
    started: started.value.started,
    failed: [...lost, ...started.value.failed],
    deadTotal: total,
    notReplayable,
    remaining: total - candidates.length - notReplayable.length,
    limit,
  });
}

/** What an operator reads in the Temporal UI: which call, never whom it is about. */
export function replaySummary(c: ReplayCandidate): string {
  return `Replay of ${c.provider}: ${c.action} for ${c.event_type} (delivery ${c.id})`;
}

/**
 * Claims and starts (or joins: one replay per delivery at a time) each replay, each in its own
 * transaction: the claim commits only if the start went through. When the first start finds Temporal
 * unavailable nothing was started: that is the refusal. Later failures are reported per delivery;
 * deliveries a concurrent replay claimed first are `lost`, with the status they have now.
 */
async function startReplays(
  deps: ReplayDeps,
  candidates: ReplayCandidate[],
): Promise<Result<{ started: StartedReplay[]; failed: FailedReplay[]; lost: { delivery_id: string; status: DeliveryStatus | undefined }[] }, WorkflowServiceErrorCode>> {
  const started: StartedReplay[] = [];
  const failed: FailedReplay[] = [];
  const lost: { delivery_id: string; status: DeliveryStatus | undefined }[] = [];
  const start = async (c: ReplayCandidate) => {
    const outcome = await deps.scope(async (db) => {
      if (!(await claimDeadForReplay(db, c.id))) return { claimed: false as const, status: (await findReplayCandidate(db, c.id))?.status };
      return { claimed: true as const, ...(await deps.replays.replay(c.id, replaySummary(c))) };
    });
    if (!outcome.claimed) lost.push({ delivery_id: c.id, status: outcome.status });
    else started.push({ delivery_id: c.id, workflow_id: outcome.workflowId, provider: c.provider, action: c.action, event_type: c.event_type });
  };
  const [first, ...rest] = candidates;
  if (!first) return ok({ started, failed, lost });
  try {
    await start(first);
  } catch (err) {
    if (err instanceof WorkflowServiceError) return refuse(err.code, err.message);
    throw err;
  }
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
  return ok({ started, failed, lost });
}
