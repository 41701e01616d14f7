/**
 * Two-way sync as the API and the CLI drive it: each readable integration's Temporal Schedule, asking
 * its `sync:{integrationId}` workflow for a pass (signal-with-start: inbound provider notifications use
 * the same call), an organisation's full resync and its progress, and the conflicts admins resolve.
 */
import crypto from 'node:crypto';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Registry } from '../connectors/registry';
import type { Db } from '../db/knex';
import { findConflict, listConflicts, resolveConflict, type ConflictFilter, type ConflictListItem, type ConflictRow } from '../db/repositories/conflicts';
import type { IntegrationRow } from '../db/repositories/integrations';
import type { SyncRunRow } from '../db/repositories/sync';
import { listIntegrationLogs, type IntegrationLogItem, type LogFilter } from '../db/repositories/logs';
import { withTenant, type Tenant } from '../db/tenant';
import { resolution, type ResolutionChoice, type SyncValue } from '../domain/conflict';
import {
  SYNC_TICK_WORKFLOW_TYPE,
  SYNC_WORKFLOW_TYPE,
  syncRequestedSignal,
  syncScheduleId,
  syncTickWorkflowId,
  syncWorkflowId,
  type IntegrationSyncWorkflow,
  type SyncRequest,
} from '../workflows/integration-sync/messages';
import { notFound, ok, refuse, type Result } from './result';
import { isUndecodable } from './payload-codec';
import { translate, WorkflowServiceError } from './temporal';

/** What the API asks of Temporal for two-way sync; an interface so API tests can see what was asked. */
export interface SyncControl {
  /** Asks `sync:{integrationId}` for a pass, starting it if it is not running. */
  request(integrationId: string, request: SyncRequest): Promise<void>;
  /** Creates or updates the integration's schedule (every SYNC_INTERVAL). */
  ensureSchedule(integrationId: string): Promise<void>;
  /** Deletes it; a schedule already gone is fine. */
  removeSchedule(integrationId: string): Promise<void>;
  /** Every schedule id of the namespace that is a sync schedule. */
  listSchedules(): Promise<string[]>;
}

/** A server that could not be reached becomes WorkflowServiceError('temporal_unavailable'), as for tours. */
function unavailable(err: unknown): never {
  throw translate(err);
}

export function createSyncControl(client: Client, config: Config): SyncControl {
  const scheduleOptions = (integrationId: string) => ({
    spec: { intervals: [{ every: config.sync.intervalMs }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: SYNC_TICK_WORKFLOW_TYPE,
      workflowId: syncTickWorkflowId(integrationId),
      taskQueue: config.temporal.taskQueue,
      args: [{ integrationId }],
      staticSummary: 'Asks for a two-way sync pass',
    },
    // A tick that finds the last one still running has nothing to add: the sync run folds requests.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 60_000 },
  });
  return {
    async request(integrationId, request) {
      try {
        await client.workflow.signalWithStart<IntegrationSyncWorkflow, [SyncRequest]>(SYNC_WORKFLOW_TYPE, {
          workflowId: syncWorkflowId(integrationId),
          taskQueue: config.temporal.taskQueue,
          args: [{ integrationId: integrationId.toLowerCase() }],
          signal: syncRequestedSignal,
          signalArgs: [request],
          staticSummary: 'Two-way sync of one integration',
        });
      } catch (err) {
        unavailable(err);
      }
    },
    async ensureSchedule(integrationId) {
      const id = integrationId.toLowerCase();
      const create = () => client.schedule.create({ scheduleId: syncScheduleId(id), ...scheduleOptions(id) });
      try {
        await create();
        return;
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) unavailable(err);
      }
      // Updating seals the action again with the active key, so schedules follow a key rotation at the
      // next worker start. One sealed under a key no longer in the keyring cannot be read to be updated:
      // everything in it comes from configuration, so it is made again.
      const handle = client.schedule.getHandle(syncScheduleId(id));
      try {
        await handle.update((previous) => ({ ...previous, ...scheduleOptions(id) }));
        return;
      } catch (err) {
        if (!isUndecodable(err)) unavailable(err);
      }
      try {
        await handle.delete();
        await create();
      } catch (err) {
        unavailable(err);
      }
    },
    async removeSchedule(integrationId) {
      try {
        await client.schedule.getHandle(syncScheduleId(integrationId.toLowerCase())).delete();
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) unavailable(err);
      }
    },
    async listSchedules() {
      const ids: string[] = [];
      for await (const s of client.schedule.list()) if (s.scheduleId.startsWith(syncScheduleId(''))) ids.push(s.scheduleId);
      return ids;
    },
  };
}

/** Whether two-way sync runs for an integration: enabled, and its provider is read (registry `readable`). */
export function syncs(registry: Registry, row: Pick<IntegrationRow, 'provider' | 'is_active'>): boolean {
  return row.is_active && registry.get(row.provider)?.readable === true;
}

type WithRow = { row: IntegrationRow };
type Service = {
  create(...args: never[]): Promise<Result<WithRow, string>>;
  update(...args: never[]): Promise<Result<WithRow, string>>;
  disable(...args: never[]): Promise<Result<WithRow, string>>;
  remove(auth: Tenant, id: string): Promise<Result<void, string>>;
};

/**
 * The integrations service, with each change reflected in the integration's schedule: created or
 * enabled, it gets one; disabled or deleted, it loses it. The change stands if Temporal cannot be
 * reached: the worker sets every schedule right when it starts (reconcileSchedules).
 */
export function withSyncSchedules<S extends Service>(service: S, deps: { sync: SyncControl; registry: Registry; logger: Logger }): S {
  const follow = async (row: IntegrationRow) => {
    try {
      if (syncs(deps.registry, row)) await deps.sync.ensureSchedule(row.id);
      else await deps.sync.removeSchedule(row.id);
    } catch (err) {
      deps.logger.warn({ err, integrationId: row.id }, 'sync schedule not updated; the worker sets it right when it starts');
    }
  };
  const after = <A extends unknown[]>(fn: (...args: A) => Promise<Result<WithRow, string>>) =>
    async (...args: A) => {
      const result = await fn(...args);
      if (result.ok) await follow(result.value.row);
      return result;
    };
  return {
    ...service,
    create: after(service.create.bind(service) as never),
    update: after(service.update.bind(service) as never),
    disable: after(service.disable.bind(service) as never),
    async remove(auth: Tenant, id: string) {
      const result = await service.remove(auth, id);
      if (result.ok) {
        await deps.sync.removeSchedule(id).catch((err: unknown) => deps.logger.warn({ err, integrationId: id }, 'sync schedule not deleted; the worker deletes it when it starts'));
      }
      return result;
    },
  } as S;
}

/** At worker start: a schedule for every integration two-way sync reads, and none for any other. Owner connection. */
export async function reconcileSchedules(db: Db, sync: SyncControl, registry: Registry): Promise<{ ensured: number; removed: number }> {
  const rows: Pick<IntegrationRow, 'id' | 'provider' | 'is_active'>[] = await db('organization_integrations').select('id', 'provider', 'is_active');
  const wanted = new Set(rows.filter((r) => syncs(registry, r)).map((r) => syncScheduleId(r.id)));
  for (const r of rows) if (wanted.has(syncScheduleId(r.id))) await sync.ensureSchedule(r.id);
  let removed = 0;
  for (const id of await sync.listSchedules()) {
    if (wanted.has(id)) continue;
    await sync.removeSchedule(id.slice(syncScheduleId('').length));
    removed++;
  }
  return { ensured: wanted.size, removed };
}

// ---------------------------------------------------------------------------------------------------
// An organisation's full resync

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'skipped';

/** One integration's pass of a resync: its run's figures (those of the pass it was folded into, if any). */
export type ResyncRun = Pick<
  SyncRunRow,
  'integration_id' | 'phase' | 'pages' | 'pulled' | 'compared' | 'pushed' | 'accepted' | 'conflicts' | 'error' | 'requested_at' | 'started_at' | 'finished_at'
> & { run_id: string; provider: string; status: RunStatus };

export interface ResyncStatus {
  id: string;
  status: RunStatus;
  integrations: ResyncRun[];
}

/** The resync as a whole: running while any pass is; failed if any failed; otherwise done. */
function overall(runs: ResyncRun[]): RunStatus {
  if (runs.some((r) => r.status === 'running')) return 'running';
  if (runs.some((r) => r.status === 'queued')) return runs.every((r) => r.status === 'queued') ? 'queued' : 'running';
  if (runs.some((r) => r.status === 'failed')) return 'failed';
  if (runs.every((r) => r.status === 'skipped')) return 'skipped';
  return 'completed';
}

export async function resyncStatus(db: Db, auth: Tenant, resyncId: string): Promise<Result<ResyncStatus, 'not_found'>> {
  const rows = await withTenant(db, auth, (trx) =>
    trx('sync_runs as r')
      .join('organization_integrations as i', 'i.id', 'r.integration_id')
      // A pass folded into another reports that one's figures.
      .leftJoin('sync_runs as m', 'm.id', 'r.merged_into')
      .where('r.resync_id', resyncId)
      .select(
        'r.id as run_id', 'r.integration_id', 'i.provider', 'r.requested_at',
        trx.raw('coalesce(m.status, r.status) as status'), trx.raw('coalesce(m.phase, r.phase) as phase'),
        ...['pages', 'pulled', 'compared', 'pushed', 'accepted', 'conflicts', 'error', 'started_at', 'finished_at'].map((c) => trx.raw(`coalesce(m.${c}, r.${c}) as ${c}`)),
      )
      .orderBy([{ column: 'i.provider' }, { column: 'r.integration_id' }]),
  );
  if (rows.length === 0) return notFound('Resync', { resync_id: resyncId });
  const integrations = (rows as ResyncRun[]).map((r) => ({ ...r, status: (r.status as string) === 'merged' ? 'running' : r.status }));
  return ok({ id: resyncId, status: overall(integrations), integrations });
}

/**
 * Asks every readable integration of the caller's organisation for a full pass. Temporal is asked first:
 * if it cannot be reached nothing was written. Each pass reports in the row named here, which the worker
 * writes if it gets there before this does.
 */
export async function startResync(
  deps: { db: Db; sync: SyncControl; registry: Registry },
  auth: Tenant,
): Promise<Result<ResyncStatus, 'no_readable_integrations' | 'temporal_unavailable'>> {
  const integrations: IntegrationRow[] = await withTenant(deps.db, auth, (trx) => trx('organization_integrations').select('id', 'provider', 'is_active', 'organization_id'));
  const readable = integrations.filter((i) => syncs(deps.registry, i));
  if (readable.length === 0) {
    return refuse('no_readable_integrations', 'The organisation has no enabled integration that two-way sync reads', {
      readable_providers: [...deps.registry.values()].filter((e) => e.readable).map((e) => e.id).sort(),
    });
  }
  const resyncId = crypto.randomUUID();
  const runs = readable.map((i) => ({ integration: i, runId: crypto.randomUUID() }));
  for (const [n, r] of runs.entries()) {
    try {
      await deps.sync.request(r.integration.id, { reason: 'resync', full: true, runId: r.runId, resyncId });
    } catch (err) {
      if (n === 0 && err instanceof WorkflowServiceError) return refuse('temporal_unavailable', err.message);
      throw err;
    }
  }
  await withTenant(deps.db, auth, async (trx) => {
    for (const r of runs) {
      // The worker may have written the row first (its pass began): that one stands.
      await trx('sync_runs')
        .insert({ id: r.runId, organization_id: auth.orgId, integration_id: r.integration.id, resync_id: resyncId, full_pass: true, reason: 'resync', status: 'queued' })
        .onConflict('id')
        .ignore();
    }
  });
  const status = await resyncStatus(deps.db, auth, resyncId);
  return status.ok ? status : refuse('temporal_unavailable', 'The resync could not be read back');
}

// ---------------------------------------------------------------------------------------------------
// Conflicts and logs

export function conflicts(db: Db, auth: Tenant, filter: ConflictFilter): Promise<ConflictListItem[]> {
  return withTenant(db, auth, (trx) => listConflicts(trx, filter));
}

export interface ResolvedConflict {
  conflict: ConflictRow & { provider: string };
  /** Whether the integration's sync was asked to apply it now (otherwise its next scheduled pass does). */
  syncRequested: boolean;
}

/**
 * An admin's choice for a manual conflict: keep ours, take theirs, or a value of their own. Recorded
 * once (a second decision on the same conflict is refused); the integration's sync is then asked for a
 * pass, which sends the resolution to the provider through a delivery keyed by the conflict and the
 * choice. If Temporal cannot be reached the choice stands and the next scheduled pass applies it.
 */
export async function resolve(
  deps: { db: Db; sync: SyncControl; logger: Logger },
  auth: Tenant,
  id: string,
  choice: ResolutionChoice,
  value: SyncValue | undefined,
): Promise<Result<ResolvedConflict, 'not_found' | 'conflict_already_resolved'>> {
  const decided = await withTenant(deps.db, auth, async (trx) => {
    const conflict = await findConflict(trx, id);
    if (!conflict) return notFound('Conflict', { conflict_id: id });
    if (conflict.status !== 'open') {
      return refuse('conflict_already_resolved', 'This conflict was already resolved', { conflict_id: id, resolution: conflict.resolution, resolved_at: conflict.resolved_at });
    }
    const settled = resolution({ ours: conflict.ours_value, theirs: conflict.theirs_value }, choice, value);
    const row = await resolveConflict(trx, { id, choice, value: settled.value, resolvedBy: auth.userId });
    if (!row) return refuse('conflict_already_resolved', 'This conflict was already resolved', { conflict_id: id });
    const { provider } = await trx('organization_integrations').select('provider').where({ id: row.integration_id }).first();
    return ok({ ...row, provider: provider as string });
  });
  if (!decided.ok) return decided;
  let syncRequested = true;
  try {
    await deps.sync.request(decided.value.integration_id, { reason: 'conflict_resolved' });
  } catch (err) {
    syncRequested = false;
    deps.logger.warn({ err, conflictId: id }, 'sync not asked to apply a resolution now; its next scheduled pass will');
  }
  return ok({ conflict: decided.value, syncRequested });
}

/** One integration's attempts, newest first; not found when it is not the caller's organisation's. */
export async function integrationLogs(db: Db, auth: Tenant, filter: LogFilter): Promise<Result<IntegrationLogItem[], 'not_found'>> {
  return withTenant(db, auth, async (trx) => {
    const exists = await trx('organization_integrations').where({ id: filter.integrationId }).first('id');
    if (!exists) return notFound('Integration', { integration_id: filter.integrationId });
    return ok(await listIntegrationLogs(trx, filter));
  });
}
