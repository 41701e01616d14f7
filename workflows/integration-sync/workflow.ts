import {
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { PullActivities, SyncActivities } from '../../activities/sync';
import type { DeliveryRetry, PlannedDelivery } from '../../domain/hub';
import { deathReason, deliverThroughBreaker } from '../deliveries';
import { providerTaskQueue } from '../task-queues';
import { syncProgressQuery, syncRequestedSignal, type SyncPass, type SyncProgress, type SyncRequest, type SyncWorkflowInput } from './messages';

const sync = proxyActivities<SyncActivities & Pick<Activities, 'markDeliveryDead'>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** With no request waiting this long after a pass, the run ends; the next request starts a new one. */
const IDLE_MS = 60_000;
/** Roll over well before the history gets heavy: a pass of many pushes is many activities. */
const HISTORY_EVENTS_LIMIT = 20_000;

/**
 * Two-way sync of one integration: workflow id `sync:{integrationId}`, asked for a pass by the
 * `syncRequested` signal (its Temporal Schedule's tick, an organisation's resync, an admin's resolution of
 * a conflict, a provider's push notification). Requests that arrive during a pass are folded into the next.
 * A pass: apply resolved conflicts, read what changed at the provider page by page on its own queue
 * (staged in Postgres), compare in batches in one ordered scan, send what the provider lacks through the
 * normal delivery path (planned rows, idempotency keys, the breaker), and record the next cursor. The
 * current details show the pass as it goes; GET /api/integrations/resync/{id} shows the same figures.
 */
export async function integrationSync(input: SyncWorkflowInput): Promise<{ passes: number }> {
  const { integrationId } = input;
  const queue: SyncRequest[] = [...(input.carried?.queue ?? []), ...(input.request ? [input.request] : [])];
  let pass: SyncPass | undefined = input.carried?.pass;
  let passes = input.carried?.passes ?? 0;
  let skipped: string | undefined;

  setHandler(syncRequestedSignal, (request) => {
    queue.push(request);
  });
  const progress = (): SyncProgress => ({
    integrationId,
    current: pass ? { runId: pass.runId, phase: pass.phase, full: pass.full, counts: pass.counts, pendingPushes: pass.pending.length } : null,
    queued: queue.length,
    passes,
  });
  setHandler(syncProgressQuery, progress);
  const show = () => {
    const p = progress();
    const c = p.current;
    setCurrentDetails(
      [
        `**Integration:** ${integrationId}`,
        c
          ? `**Pass:** ${c.runId} (${c.full ? 'full' : 'changes'}), **phase:** ${c.phase}`
          : `**Pass:** none running${skipped ? ` (last request skipped: ${skipped})` : ''}`,
        ...(c
          ? [`**Pulled:** ${c.counts.pulled} records in ${c.counts.pages} pages`, `**Compared:** ${c.counts.compared}, **pushed:** ${c.counts.pushed} (${c.pendingPushes} waiting), **accepted:** ${c.counts.accepted}, **conflicts:** ${c.counts.conflicts}`]
          : []),
        `**Queued requests:** ${p.queued}`,
        `**Passes done by this run:** ${p.passes}`,
      ].join('\n'),
    );
  };

  for (;;) {
    if (!pass) {
      if (queue.length === 0) {
        show();
        if (!(await condition(() => queue.length > 0, IDLE_MS))) {
          await condition(allHandlersFinished);
          if (queue.length === 0) return { passes };
        }
      }
      const requests = queue.splice(0);
      const begun = await sync.beginSyncPass({ integrationId, requests });
      if (begun.kind === 'skip') {
        skipped = begun.why;
        continue;
      }
      skipped = undefined;
      pass = {
        runId: begun.runId,
        organizationId: begun.organizationId,
        provider: begun.provider,
        retry: begun.retry,
        full: begun.full,
        reasons: requests.map((r) => r.reason),
        phase: 'resolve',
        cursor: begun.cursor,
        page: null,
        nextCursor: null,
        after: null,
        counts: { pages: 0, pulled: 0, compared: 0, pushed: 0, accepted: 0, conflicts: 0 },
        pending: [],
        startedAt: begun.startedAt,
      };
    }
    show();
    const current = pass;
    try {
      await step(current);
      if (current.phase === 'done') {
        passes++;
        pass = undefined;
      }
    } catch (err) {
      if (isCancellation(err)) throw err;
      const reason = deathReason(err);
      log.warn('Sync pass failed', { integrationId, runId: current.runId, error: reason });
      await sync.failSyncPass({ runId: current.runId, error: reason });
      pass = undefined;
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_EVENTS_LIMIT) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof integrationSync>({ integrationId, carried: { queue, ...(pass ? { pass } : {}), passes } });
    }
  }

  /** One step of a pass; each ends where a continue-as-new can carry the pass on. */
  async function step(p: SyncPass): Promise<void> {
    switch (p.phase) {
      case 'resolve': {
        const resolutions = await sync.applyResolutions({ integrationId, runId: p.runId });
        const byConflict = new Map<string, PlannedDelivery[]>();
        for (const r of resolutions) byConflict.set(r.conflictId, [...(byConflict.get(r.conflictId) ?? []), r.delivery]);
        for (const [conflictId, deliveries] of byConflict) {
          let sent = true;
          for (const d of deliveries) sent = (await send(d, p.retry)) && sent;
          // Settled only once the provider took every call of it; otherwise the next pass sends it again (same keys).
          if (sent) await sync.confirmResolution({ conflictId, deliveryKey: deliveries.at(-1)!.idempotencyKey });
        }
        p.phase = 'pull';
        await sync.syncPhase({ runId: p.runId, phase: 'pull' });
        return;
      }
      case 'pull': {
        const { pullChanges } = proxyActivities<PullActivities>({
          taskQueue: providerTaskQueue(p.provider),
          // Reads share the provider queue's per-integration rate with the calls (FAIRNESS_PATCH in
          // deliveries.ts): one organisation's big pass never holds another's calls back.
          priority: { fairnessKey: integrationId },
          startToCloseTimeout: p.retry.attemptTimeoutMs,
          retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
          summary: `${p.provider}: read changes for sync`,
        });
        const page = await pullChanges({ integrationId, runId: p.runId, cursor: p.cursor, page: p.page, startedAt: p.startedAt });
        if (page.fullRequired) {
          // The provider forgot our cursor: read everything, and compare everything.
          p.full = true;
          p.cursor = null;
          p.page = null;
          return;
        }
        p.counts.pages++;
        p.counts.pulled += page.records;
        p.page = page.page;
        if (page.page === null) {
          p.nextCursor = page.cursor;
          p.phase = 'compare';
        }
        return;
      }
      case 'compare': {
        if (p.pending.length === 0) {
          const batch = await sync.compareRecords({ integrationId, runId: p.runId, full: p.full, after: p.after });
          p.counts.compared += batch.compared;
          p.counts.pushed += batch.planned.length;
          p.counts.accepted += batch.accepted;
          p.counts.conflicts += batch.conflicts;
          p.pending.push(...batch.planned);
          p.after = batch.after;
          if (batch.after === null && batch.planned.length === 0) await finish(p);
          return;
        }
        // One integration, one call at a time, in the order planned (completed tours first).
        while (p.pending.length > 0) {
          await send(p.pending[0]!, p.retry);
          p.pending.shift();
          if (workflowInfo().continueAsNewSuggested) return;
        }
        if (p.after === null) await finish(p);
        return;
      }
      case 'done':
        return;
    }
  }

  async function finish(p: SyncPass): Promise<void> {
    await sync.finishSyncPass({ runId: p.runId, organizationId: p.organizationId, integrationId, full: p.full, cursor: p.nextCursor });
    p.phase = 'done';
  }
}

/** Sends one planned call through the normal delivery path; a call that runs out of retries goes to the dead letter. */
async function send(d: PlannedDelivery, retry: DeliveryRetry): Promise<boolean> {
  try {
    await deliverThroughBreaker(d, retry);
    return true;
  } catch (err) {
    if (isCancellation(err)) throw err;
    await sync.markDeliveryDead({ idempotencyKey: d.idempotencyKey, integrationId: d.integrationId, error: deathReason(err) });
    return false;
  }
}
