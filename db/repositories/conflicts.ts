import type { Knex } from 'knex';
import type { ResolutionChoice, SyncValue } from '../../domain/conflict';

/** Manual conflicts of two-way sync (migration 20261128140000). */

export type ConflictStatus = 'open' | 'resolved';

export interface ConflictRow {
  id: string;
  organization_id: string;
  integration_id: string;
  record_key: string;
  remote_id: string | null;
  field: string;
  ours_value: SyncValue;
  theirs_value: SyncValue;
  base_value: SyncValue | null;
  ours_at: Date | null;
  theirs_at: Date | null;
  user_id: string | null;
  progress_id: string | null;
  status: ConflictStatus;
  detected_at: Date;
  updated_at: Date;
  resolution: ResolutionChoice | null;
  resolved_value: SyncValue | null;
  resolved_by: string | null;
  resolved_at: Date | null;
  applied_at: Date | null;
  delivery_key: string | null;
}

export interface NewConflict {
  organizationId: string;
  integrationId: string;
  key: string;
  remoteId: string | null;
  field: string;
  ours: SyncValue;
  theirs: SyncValue;
  base: SyncValue | undefined;
  oursAt: string | null;
  theirsAt: string | null;
  userId: string | null;
  progressId: string | null;
}

const json = (v: SyncValue | undefined) => (v === undefined ? null : JSON.stringify(v));

/**
 * Records conflicts found by a pass: a field with an open conflict already keeps it, with both values
 * brought up to date. Returns the ids of conflicts that are new (the organisation hears about those).
 */
export async function upsertConflicts(db: Knex, conflicts: NewConflict[]): Promise<{ id: string; integrationId: string; organizationId: string; field: string }[]> {
  if (conflicts.length === 0) return [];
  const rows = conflicts.map((c) => ({
    organization_id: c.organizationId,
    integration_id: c.integrationId,
    record_key: c.key,
    remote_id: c.remoteId,
    field: c.field,
    ours_value: json(c.ours),
    theirs_value: json(c.theirs),
    base_value: json(c.base),
    ours_at: c.oursAt,
    theirs_at: c.theirsAt,
    user_id: c.userId,
    progress_id: c.progressId,
  }));
  const result: { id: string; integration_id: string; organization_id: string; field: string; inserted: boolean }[] = await db('sync_conflicts')
    .insert(rows)
    // A field with an open conflict keeps it: the partial unique index of open conflicts is the target.
    .onConflict(db.raw(`(integration_id, record_key, field) where status = 'open'`))
    .merge({
      ours_value: db.raw('excluded.ours_value'),
      theirs_value: db.raw('excluded.theirs_value'),
      ours_at: db.raw('excluded.ours_at'),
      theirs_at: db.raw('excluded.theirs_at'),
      remote_id: db.raw('coalesce(excluded.remote_id, sync_conflicts.remote_id)'),
      updated_at: db.fn.now(),
    })
    .returning(['id', 'integration_id', 'organization_id', 'field', db.raw('(xmax = 0) as inserted')]);
  return result
    .filter((r) => r.inserted)
    .map((r) => ({ id: r.id, integrationId: r.integration_id, organizationId: r.organization_id, field: r.field }));
}

/** Fields of these records whose resolution is decided but not yet through: a pass leaves them alone meanwhile. */
export async function pendingResolutionFields(db: Knex, integrationId: string, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows: { record_key: string; field: string }[] = await db('sync_conflicts')
    .select('record_key', 'field')
    .where({ integration_id: integrationId, status: 'resolved' })
    .whereNull('applied_at')
    .whereIn('record_key', keys);
  return new Set(rows.map((r) => `${r.record_key}\u0000${r.field}`));
}

/** Resolved conflicts whose resolution has not been applied yet, oldest first. */
export async function unappliedResolutions(db: Knex, integrationId: string, limit: number): Promise<ConflictRow[]> {
  return db('sync_conflicts').where({ integration_id: integrationId, status: 'resolved' }).whereNull('applied_at').orderBy([{ column: 'resolved_at' }, { column: 'id' }]).limit(limit);
}

export async function markApplied(db: Knex, conflictId: string, deliveryKey: string | null): Promise<void> {
  await db('sync_conflicts').where({ id: conflictId, status: 'resolved' }).whereNull('applied_at').update({ applied_at: db.fn.now(), delivery_key: deliveryKey, updated_at: db.fn.now() });
}

export async function findConflict(db: Knex, id: string): Promise<ConflictRow | undefined> {
  return db('sync_conflicts').where({ id }).first();
}

/**
 * An admin's decision, once: only an open conflict moves to resolved, so of two admins deciding at the
 * same moment the second finds it resolved. `db` is a tenant transaction (RLS: the organisation's admins).
 */
export async function resolveConflict(
  db: Knex,
  input: { id: string; choice: ResolutionChoice; value: SyncValue; resolvedBy: string },
): Promise<ConflictRow | undefined> {
  const [row] = await db('sync_conflicts')
    .where({ id: input.id, status: 'open' })
    .update({
      status: 'resolved',
      resolution: input.choice,
      resolved_value: JSON.stringify(input.value),
      resolved_by: input.resolvedBy,
      resolved_at: db.fn.now(),
      updated_at: db.fn.now(),
    })
    .returning('*');
  return row;
}

/** A conflict as the listing shows it, with the provider of its integration. */
export interface ConflictListItem extends ConflictRow {
  provider: string;
  /** detected_at to the microsecond, as text: the keyset needs what a JS Date would drop. */
  position: string;
}

export interface ConflictFilter {
  status?: ConflictStatus;
  integrationId?: string;
  limit: number;
  after?: { detectedAt: string; id: string };
}

/** Newest first, keyset-paginated on (detected_at, id). `db` is a tenant transaction. */
export async function listConflicts(db: Knex, f: ConflictFilter): Promise<ConflictListItem[]> {
  const q = db('sync_conflicts as c')
    .join('organization_integrations as i', 'i.id', 'c.integration_id')
    .select('c.*', 'i.provider', db.raw(`to_char(c.detected_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as position`))
    .orderBy([{ column: 'c.detected_at', order: 'desc' }, { column: 'c.id', order: 'desc' }])
    .limit(f.limit);
  if (f.status) q.where('c.status', f.status);
  if (f.integrationId) q.where('c.integration_id', f.integrationId);
  if (f.after) q.whereRaw('(c.detected_at, c.id) < (?::timestamptz, ?::uuid)', [f.after.detectedAt, f.after.id]);
  return q;
}
