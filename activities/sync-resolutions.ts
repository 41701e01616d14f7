/**
 * Applying an admin's resolution of a manual conflict (POST /api/integrations/conflicts/:id/resolve): the
 * chosen value becomes ours where ours lives, and, where the provider holds something else, goes to it
 * through a planned delivery keyed by the conflict and the choice, so however often a pass retries it
 * the provider is sent it once. The agreement is recorded only once the provider took it.
 */
import type { Db } from '../db/knex';
import { findConflict, markApplied, unappliedResolutions } from '../db/repositories/conflicts';
import { findIntegration } from '../db/repositories/integrations';
import { compareBatch, saveRecords, updateMember, type CompareRow } from '../db/repositories/sync';
import type { SecretBox } from '../db/secrets';
import { resolution, type SyncValue } from '../domain/conflict';
import type { Category, PlannedDelivery, PlannedEvent } from '../domain/hub';
import { digest, EVENT_FIELDS, joinName, MEMBER_FIELDS, ourRecord, planSyncDeliveries, pushActions, scopeOf, splitName } from './sync-records';

/** How many resolutions one pass applies; the rest wait for the next. */
const RESOLUTIONS_PER_PASS = 100;

export interface ResolutionDelivery {
  conflictId: string;
  delivery: PlannedDelivery;
}

/** The key of a resolution's call: the conflict, the choice and (for a value of the admin's own) the value. */
export function resolutionKey(conflictId: string, choice: string, value: SyncValue, method: string): string {
  return `conflict:${conflictId}:${choice}${choice === 'value' ? `:${digest(JSON.stringify(value), 16)}` : ''}:${method}`;
}

export function createResolutionActivities(deps: { db: Db; box: SecretBox; open: (row: CompareRow) => PlannedEvent | undefined }) {
  const { db } = deps;

  async function recordAgreement(integration: { id: string; organization_id: string }, row: CompareRow | undefined, key: string, field: string, value: SyncValue, local?: boolean) {
    const current = row ?? (await db('sync_records').where({ integration_id: integration.id, record_key: key }).first());
    await saveRecords(db, [
      {
        organizationId: integration.organization_id,
        integrationId: integration.id,
        key,
        remoteId: current?.remote_id ?? null,
        base: { ...(current?.base ?? {}), [field]: value },
        local: { ...(current?.local ?? {}), ...(local ? { [field]: value } : {}) },
      },
    ]);
  }

  return {
    /** The pass's first step: every decided, unapplied resolution of this integration; returns the calls to send. */
    async applyResolutions(input: { integrationId: string; runId: string }): Promise<ResolutionDelivery[]> {
      const integration = await findIntegration(db, input.integrationId);
      if (!integration) return [];
      const category = integration.type as Category;
      const kind = scopeOf(category);
      if (!kind) return [];
      const out: ResolutionDelivery[] = [];
      for (const conflict of await unappliedResolutions(db, integration.id, RESOLUTIONS_PER_PASS)) {
        const r = resolution({ ours: conflict.ours_value, theirs: conflict.theirs_value }, conflict.resolution!, conflict.resolved_value ?? null);
        const [row] = await compareBatch(db, { kind, orgId: integration.organization_id, integrationId: integration.id, runId: input.runId, full: true, after: null, limit: 1, key: conflict.record_key });
        if (!row) {
          // The couple or the event is gone: there is nothing left to settle.
          await markApplied(db, conflict.id, null);
          continue;
        }
        const field = conflict.field;
        if (r.takeIntoOurs && MEMBER_FIELDS.has(field) && (category === 'crm' || category === 'email') && row.email) {
          const current = splitName(row.display_name);
          const text = r.value === null ? null : String(r.value);
          const patch =
            field === 'phone'
              ? { phone: text }
              : { display_name: joinName(field === 'first_name' ? text : current.first, field === 'last_name' ? text : current.last) };
          await updateMember(db, integration.organization_id, row.email, patch);
        }
        const localField = category === 'calendar' && EVENT_FIELDS.has(field);
        const ours = r.push ? ourRecord(category, row, integration.settings.field_mapping ?? {}, deps.open) : undefined;
        const actions = ours ? pushActions(category, row, ours, { ...(row.base ?? {}), ...(localField ? row.local ?? {} : {}), [field]: r.value }, new Set([field]), false) : [];
        if (actions.length === 0) {
          await recordAgreement(integration, row, conflict.record_key, field, r.value, localField && r.takeIntoOurs);
          await markApplied(db, conflict.id, null);
          continue;
        }
        if (localField && r.takeIntoOurs) await recordAgreement(integration, row, conflict.record_key, field, (row.base ?? {})[field] ?? null, true);
        const planned = await planSyncDeliveries(
          db,
          deps.box,
          integration,
          actions.map((action) => ({
            eventId: `conflict:${conflict.id}`,
            eventType: 'conflict_resolution',
            idempotencyKey: resolutionKey(conflict.id, conflict.resolution!, r.value, action.method),
            action,
          })),
        );
        out.push(...planned.map((delivery) => ({ conflictId: conflict.id, delivery })));
      }
      return out;
    },

    /** Every call of a resolution went through: the value is what both sides agree on, and the conflict is settled. */
    async confirmResolution(input: { conflictId: string; deliveryKey: string }): Promise<void> {
      const conflict = await findConflict(db, input.conflictId);
      if (!conflict || conflict.status !== 'resolved' || conflict.applied_at) return;
      const integration = await findIntegration(db, conflict.integration_id);
      if (!integration) return;
      await recordAgreement(integration, undefined, conflict.record_key, conflict.field, conflict.resolved_value ?? null);
      await markApplied(db, conflict.id, input.deliveryKey);
    },
  };
}
