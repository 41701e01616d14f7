/**
 * Two-way sync's activities (workflows/integration-sync): a pass of one integration begins, reads what
 * changed at the provider page by page (on the provider's own queue, at its rate: pullChanges), compares
 * it with our records in batches in one ordered scan (compareRecords), applies admins' resolutions of
 * conflicts, and ends with the provider's next cursor. Pushes are planned deliveries, sealed like the
 * hub's, which the workflow sends through the normal delivery path.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { SyncConfig } from '../config';
import type { ChangeReader } from '../connectors/contracts';
import { ConnectorError } from '../connectors/errors';
import type { Registry } from '../connectors/registry';
import type { Db } from '../db/knex';
import { pendingResolutionFields, upsertConflicts, type NewConflict } from '../db/repositories/conflicts';
import { findIntegration } from '../db/repositories/integrations';
import { insertOutboundEvents } from '../db/repositories/outbound-events';
import {
  addRunProgress,
  compareBatch,
  completeRun,
  failRun,
  findRun,
  findSyncState,
  knownEvents,
  knownPeople,
  saveRecords,
  skipRequested,
  stageRecords,
  startRun,
  touchSyncTimestamps,
  updateMember,
} from '../db/repositories/sync';
import type { SecretBox } from '../db/secrets';
import { policyFor, reconcileRecord, type SyncFields } from '../domain/conflict';
import type { Category, DeliveryRetry, PlannedDelivery } from '../domain/hub';
import type { SyncRequest } from '../workflows/integration-sync/messages';
import type { ConnectorFactory } from './connector-factory';
import { activityFailure } from './deliver';
import { createResolutionActivities } from './sync-resolutions';
import { digest, EVENT_FIELDS, joinName, MEMBER_FIELDS, openEvent, ourRecord, planSyncDeliveries, pushActions, pushKey, scopeOf, splitName, theirRecord } from './sync-records';

export type BeginPass =
  | { kind: 'skip'; why: string }
  | { kind: 'run'; runId: string; organizationId: string; provider: string; retry: DeliveryRetry; full: boolean; cursor: string | null; startedAt: number };

export interface ComparedBatch {
  /** Where the next batch starts; null once every record was compared. */
  after: { priority: number; key: string } | null;
  compared: number;
  accepted: number;
  conflicts: number;
  planned: PlannedDelivery[];
}

const refuse = (message: string, type: string) => ApplicationFailure.nonRetryable(message, type);


export function createSyncActivities(deps: { db: Db; box: SecretBox; registry: Registry; sync: SyncConfig; retry: DeliveryRetry }) {
  const { db } = deps;
  const open = openEvent(deps.box);

  return {
    /**
     * Whether a pass can run (the integration exists, is enabled, is read by two-way sync and its breaker
     * is closed) and which: full when asked, when there is no cursor, or when the last full one is older
     * than SYNC_FULL_EVERY. Queued rows of the requests become the pass's row.
     */
    async beginSyncPass(input: { integrationId: string; requests: SyncRequest[] }): Promise<BeginPass> {
      const requested = input.requests.flatMap((r) => (r.runId ? [{ runId: r.runId, ...(r.resyncId ? { resyncId: r.resyncId } : {}), full: r.full ?? false, reason: r.reason }] : []));
      const integration = await findIntegration(db, input.integrationId);
      if (!integration) return { kind: 'skip', why: 'the integration was deleted' };
      const skip = async (why: string): Promise<BeginPass> => {
        await skipRequested(db, integration, requested, why);
        return { kind: 'skip', why };
      };
      if (!deps.registry.get(integration.provider)?.readable || !scopeOf(integration.type as Category)) return skip(`${integration.provider} is not read by two-way sync`);
      if (!integration.is_active) return skip('the integration is disabled');
      if (integration.breaker_state === 'open') return skip('the integration is paused until a probe succeeds');
      const state = await findSyncState(db, integration.id);
      const stale = !state?.last_full_sync_at || Date.now() - new Date(state.last_full_sync_at).getTime() >= deps.sync.fullEveryMs;
      const full = input.requests.some((r) => r.full) || !state?.cursor || stale;
      const reason = [...new Set(input.requests.map((r) => r.reason))].join(',') || 'schedule';
      const runId = await startRun(db, { organizationId: integration.organization_id, integrationId: integration.id, full, reason, requested });
      const run = await findRun(db, runId);
      return { kind: 'run', runId, organizationId: integration.organization_id, provider: integration.provider, retry: deps.retry, full, cursor: full ? null : state!.cursor, startedAt: new Date(run!.started_at!).getTime() };
    },

    /** One batch of the ordered comparison: decisions per field, pushes planned, the rest written at once. */
    async compareRecords(input: { integrationId: string; runId: string; full: boolean; after: { priority: number; key: string } | null }): Promise<ComparedBatch> {
      const integration = await findIntegration(db, input.integrationId);
      if (!integration) throw refuse('The integration was deleted', 'integration_gone');
      const category = integration.type as Category;
      const kind = scopeOf(category);
      if (!kind) throw refuse(`${integration.provider} is not read by two-way sync`, 'not_readable');
      const rows = await compareBatch(db, { kind, orgId: integration.organization_id, integrationId: integration.id, runId: input.runId, full: input.full, after: input.after, limit: deps.sync.compareBatch });
      const pending = await pendingResolutionFields(db, integration.id, rows.map((r) => r.record_key));
      const mapping = integration.settings.field_mapping ?? {};
      const storedForm = deps.registry.get(integration.provider)?.storedForm ?? ((f: SyncFields) => f);
      const records: Parameters<typeof saveRecords>[1] = [];
      const conflicts: NewConflict[] = [];
      const calls: Parameters<typeof planSyncDeliveries>[3] = [];
      const timestamps: Parameters<typeof touchSyncTimestamps>[1] = [];
      const members: { email: string; patch: { display_name?: string | null; phone?: string | null } }[] = [];
      let accepted = 0;
      for (const row of rows) {
        const found = ourRecord(category, row, mapping, open);
        if (!found) continue;
        // Ours as the provider would keep it: a name it can only hold shortened is the same name, not a planner's edit.
        const ours = { ...found, side: { ...found.side, fields: storedForm(found.side.fields) } };
        const theirs = theirRecord(category, row, ours.side.fields, input.full);
        // Fields whose conflict an admin resolved are left alone until the resolution is through.
        const fields: SyncFields = Object.fromEntries(Object.entries(ours.side.fields).filter(([f]) => !pending.has(`${row.record_key}\u0000${f}`)));
        const decision = reconcileRecord({ policy: (f) => policyFor(integration.provider, f), base: row.base ?? undefined, ours: { ...ours.side, fields }, theirs });
        const target: SyncFields = { ...decision.inSync, ...decision.accept, ...decision.push };
        const actions = pushActions(category, row, ours, target, new Set(Object.keys(decision.push)), decision.missing);
        const eventId = `sync:${input.runId}:${digest(row.record_key, 16)}`;
        for (const action of actions) calls.push({ eventId, eventType: 'sync', idempotencyKey: pushKey(integration.id, row.record_key, action), action });
        // What we take from the provider: onto the member row (people) or into the record's local values (events).
        const acceptedFields = Object.keys(decision.accept);
        if (acceptedFields.length > 0) accepted++;
        if (category !== 'calendar' && category !== 'payment' && acceptedFields.some((f) => MEMBER_FIELDS.has(f))) {
          const patch: { display_name?: string | null; phone?: string | null } = {};
          if ('first_name' in decision.accept || 'last_name' in decision.accept) {
            const current = splitName(row.display_name);
            patch.display_name = joinName(decision.accept.first_name ?? current.first, decision.accept.last_name ?? current.last);
          }
          if ('phone' in decision.accept) patch.phone = decision.accept.phone === null ? null : String(decision.accept.phone);
          members.push({ email: row.email!, patch });
        }
        const local = { ...(row.local ?? {}) };
        if (category === 'calendar') for (const f of acceptedFields) if (EVENT_FIELDS.has(f)) local[f] = decision.accept[f]!;
        records.push({
          organizationId: integration.organization_id,
          integrationId: integration.id,
          key: row.record_key,
          remoteId: row.remote_id,
          base: { ...(row.base ?? {}), ...decision.inSync, ...decision.accept },
          local,
        });
        for (const c of decision.conflicts) {
          conflicts.push({
            organizationId: integration.organization_id,
            integrationId: integration.id,
            key: row.record_key,
            remoteId: row.remote_id,
            field: c.field,
            ours: c.ours,
            theirs: c.theirs,
            base: c.base,
            oursAt: ours.side.at,
            theirsAt: theirs?.at ?? null,
            userId: row.user_id ?? null,
            progressId: row.progress_id,
          });
        }
        if (row.progress_id) timestamps.push({ organizationId: integration.organization_id, progressId: row.progress_id, integrationId: integration.id, conflict: decision.conflicts.length > 0 });
      }
      const { planned, fresh } = await db.transaction(async (trx) => {
        for (const m of members) await updateMember(trx, integration.organization_id, m.email, m.patch);
        await saveRecords(trx, records);
        const made = await upsertConflicts(trx, conflicts);
        await touchSyncTimestamps(trx, timestamps);
        const plannedCalls = await planSyncDeliveries(trx, deps.box, integration, calls);
        await insertOutboundEvents(
          trx,
          made.map((c) => ({
            organizationId: c.organizationId,
            eventType: 'sync.conflict',
            subjectId: c.id,
            dedupeKey: `sync.conflict:${c.id}`,
            payload: { conflict_id: c.id, integration_id: c.integrationId, provider: integration.provider, field: c.field },
          })),
        );
        await addRunProgress(trx, input.runId, { phase: 'compare', compared: rows.length, pushed: plannedCalls.length, accepted, conflicts: made.length });
        return { planned: plannedCalls, fresh: made.length };
      });
      const last = rows.at(-1);
      return {
        after: rows.length < deps.sync.compareBatch || !last ? null : { priority: Number(last.priority), key: last.record_key },
        compared: rows.length,
        accepted,
        conflicts: fresh,
        planned,
      };
    },

    async finishSyncPass(input: { runId: string; organizationId: string; integrationId: string; full: boolean; cursor: string | null }): Promise<void> {
      await completeRun(db, input);
    },

    async failSyncPass(input: { runId: string; error: string }): Promise<void> {
      await failRun(db, input.runId, input.error);
    },

    async syncPhase(input: { runId: string; phase: 'pull' | 'compare' | 'resolve' }): Promise<void> {
      await addRunProgress(db, input.runId, { phase: input.phase });
    },

    ...createResolutionActivities({ db, box: deps.box, open }),
  };
}

export type SyncActivities = ReturnType<typeof createSyncActivities>;

export interface PulledPage {
  /** The provider's next page, or null once the last page was read. */
  page: string | null;
  /** On the last page: the cursor the next pass starts from. */
  cursor: string | null;
  records: number;
  /** The cursor is one the provider no longer honours: the pass starts over as a full one. */
  fullRequired: boolean;
}

/**
 * Reading the provider, one page per activity on its own queue (`provider-{id}`), so reads are paced by
 * the provider's published rate like every call. Only records naming someone we sync are staged.
 */
export function createPullActivities(deps: { db: Db; connectors: ConnectorFactory; pageSize: number }) {
  return {
    async pullChanges(input: { integrationId: string; runId: string; cursor: string | null; page: string | null; startedAt: number }): Promise<PulledPage> {
      const integration = await findIntegration(deps.db, input.integrationId);
      if (!integration) throw refuse('The integration was deleted', 'integration_gone');
      const connector = deps.connectors.forIntegration(integration) as Partial<ChangeReader>;
      if (!connector.listChanges) throw refuse(`${integration.provider} is not read by two-way sync`, 'not_readable');
      Context.current().heartbeat();
      let page;
      try {
        page = await connector.listChanges({
          ...(input.cursor !== null ? { cursor: input.cursor } : {}),
          ...(input.page !== null ? { page: input.page } : {}),
          pageSize: deps.pageSize,
          startedAt: input.startedAt,
        });
      } catch (err) {
        if (err instanceof ConnectorError && err.code === 'cursor_expired') return { page: null, cursor: null, records: 0, fullRequired: true };
        if (err instanceof ConnectorError) throw activityFailure(err);
        throw err;
      }
      const keys = page.records.map((r) => r.key);
      const known = integration.type === 'calendar' ? await knownEvents(deps.db, integration.id, keys) : await knownPeople(deps.db, integration.organization_id, keys);
      const staged = page.records.filter((r) => known.has(r.key));
      await stageRecords(deps.db, input.runId, staged);
      await addRunProgress(deps.db, input.runId, { phase: 'pull', pages: 1, pulled: staged.length });
      return { page: page.nextPage ?? null, cursor: page.nextPage ? null : (page.cursor ?? null), records: staged.length, fullRequired: false };
    },
  };
}

export type PullActivities = ReturnType<typeof createPullActivities>;
