import type { Knex } from 'knex';
import type { SyncFields } from '../../domain/conflict';

/** Two-way sync's tables (migrations 20261128140100 and 140200). The worker writes with the owner connection. */

export type SyncRunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'skipped' | 'merged';

export interface SyncRunRow {
  id: string;
  organization_id: string;
  integration_id: string;
  resync_id: string | null;
  full_pass: boolean;
  reason: string;
  status: SyncRunStatus;
  phase: 'pull' | 'compare' | 'resolve' | 'done' | null;
  merged_into: string | null;
  pages: number;
  pulled: number;
  compared: number;
  pushed: number;
  accepted: number;
  conflicts: number;
  error: string | null;
  requested_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface SyncStateRow {
  integration_id: string;
  cursor: string | null;
  last_synced_at: Date | null;
  last_full_sync_at: Date | null;
}

export async function findSyncState(db: Knex, integrationId: string): Promise<SyncStateRow | undefined> {
  return db('sync_states').select('integration_id', 'cursor', 'last_synced_at', 'last_full_sync_at').where({ integration_id: integrationId }).first();
}

/**
 * The pass that starts now. Requests from an API resync name their run (and resync) ids: the first
 * becomes this pass's row, running, whether the API has written its queued row yet or not; the others
 * are folded into it. Without such a request the pass gets a new row. Returns its id.
 */
export async function startRun(
  db: Knex,
  input: { organizationId: string; integrationId: string; full: boolean; reason: string; requested: { runId: string; resyncId?: string }[] },
): Promise<string> {
  return db.transaction(async (trx) => {
    const [first, ...rest] = input.requested;
    const base = { organization_id: input.organizationId, integration_id: input.integrationId, full_pass: input.full, reason: input.reason.slice(0, 100) };
    let id: string;
    if (first) {
      id = first.runId;
      await trx('sync_runs')
        .insert({ id, ...base, resync_id: first.resyncId ?? null, status: 'running', phase: 'resolve', started_at: trx.fn.now() })
        .onConflict('id')
        .merge({ status: 'running', phase: 'resolve', full_pass: trx.raw('excluded.full_pass'), reason: trx.raw('excluded.reason'), started_at: trx.fn.now() })
        .where('sync_runs.status', 'queued')
        .whereRaw('sync_runs.integration_id = excluded.integration_id');
    } else {
      const [row] = await trx('sync_runs').insert({ ...base, status: 'running', phase: 'resolve', started_at: trx.fn.now() }).returning('id');
      id = row.id;
    }
    for (const r of rest) {
      await trx('sync_runs')
        .insert({ id: r.runId, ...base, resync_id: r.resyncId ?? null, status: 'merged', merged_into: id, finished_at: trx.fn.now() })
        .onConflict('id')
        .merge({ status: 'merged', merged_into: trx.raw('excluded.merged_into'), finished_at: trx.fn.now() })
        .where('sync_runs.status', 'queued')
        .whereRaw('sync_runs.integration_id = excluded.integration_id');
    }
    // Whatever an earlier pass of this integration left staged (a pass that failed) is of no use now.
    await trx('sync_remote_records')
      .whereIn('run_id', trx('sync_runs').select('id').where({ integration_id: input.integrationId }).whereNot({ id }))
      .delete();
    return id;
  });
}

/**
 * Requests that cannot run (the integration is disabled, not readable or paused): their rows say why,
 * whether the API wrote them yet or not.
 */
export async function skipRequested(
  db: Knex,
  integration: { id: string; organization_id: string },
  requested: { runId: string; resyncId?: string; full: boolean; reason: string }[],
  why: string,
): Promise<void> {
  for (const r of requested) {
    await db('sync_runs')
      .insert({
        id: r.runId,
        organization_id: integration.organization_id,
        integration_id: integration.id,
        resync_id: r.resyncId ?? null,
        full_pass: r.full,
        reason: r.reason.slice(0, 100),
        status: 'skipped',
        error: why.slice(0, 2000),
        finished_at: db.fn.now(),
      })
      .onConflict('id')
      .merge({ status: 'skipped', error: db.raw('excluded.error'), finished_at: db.fn.now() })
      .where('sync_runs.status', 'queued')
      .whereRaw('sync_runs.integration_id = excluded.integration_id');
  }
}

export interface RunProgress {
  phase?: 'pull' | 'compare' | 'resolve' | 'done';
  pages?: number;
  pulled?: number;
  compared?: number;
  pushed?: number;
  accepted?: number;
  conflicts?: number;
}

/** Adds to a running pass's figures (and moves its phase), so the API shows progress as it happens. */
export async function addRunProgress(db: Knex, runId: string, p: RunProgress): Promise<void> {
  const add = (column: keyof RunProgress) => (p[column] ? { [column]: db.raw('?? + ?', [column, p[column]]) } : {});
  await db('sync_runs')
    .where({ id: runId })
    .update({ ...(p.phase ? { phase: p.phase } : {}), ...add('pages'), ...add('pulled'), ...add('compared'), ...add('pushed'), ...add('accepted'), ...add('conflicts') });
}

/** The pass is done: the provider's next cursor, the integration's last sync, the staging gone. */
export async function completeRun(db: Knex, input: { runId: string; organizationId: string; integrationId: string; full: boolean; cursor: string | null }): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('sync_runs').where({ id: input.runId }).update({ status: 'completed', phase: 'done', finished_at: trx.fn.now() });
    await trx.raw(
      `insert into sync_states (integration_id, organization_id, cursor, last_synced_at, last_full_sync_at, updated_at)
       values (?, ?, ?, now(), case when ? then now() end, now())
       on conflict (integration_id) do update set
         cursor = excluded.cursor, last_synced_at = now(),
         last_full_sync_at = coalesce(excluded.last_full_sync_at, sync_states.last_full_sync_at), updated_at = now()`,
      [input.integrationId, input.organizationId, input.cursor, input.full],
    );
    await trx('organization_integrations').where({ id: input.integrationId }).update({ last_sync_at: trx.fn.now() });
    await trx('sync_remote_records').where({ run_id: input.runId }).delete();
  });
}

export async function failRun(db: Knex, runId: string, error: string): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('sync_runs').where({ id: runId }).whereIn('status', ['running', 'queued']).update({ status: 'failed', error: error.slice(0, 2000), finished_at: trx.fn.now() });
    await trx('sync_remote_records').where({ run_id: runId }).delete();
  });
}

export async function findRun(db: Knex, runId: string): Promise<SyncRunRow | undefined> {
  return db('sync_runs').where({ id: runId }).first();
}

export interface StagedRecord {
  key: string;
  remoteId: string;
  fields: SyncFields;
  updatedAt: string | null;
}

/**
 * Stages one page of the provider's records for this pass. A record seen twice in a pass (Stripe's events
 * name a customer per change) keeps its newest snapshot.
 */
export async function stageRecords(db: Knex, runId: string, records: StagedRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((r) => ({ run_id: runId, record_key: r.key, remote_id: r.remoteId, fields: JSON.stringify(r.fields), remote_updated_at: r.updatedAt }));
  await db('sync_remote_records')
    .insert(rows)
    .onConflict(['run_id', 'record_key'])
    .merge(['remote_id', 'fields', 'remote_updated_at'])
    .whereRaw('sync_remote_records.remote_updated_at is null or excluded.remote_updated_at >= sync_remote_records.remote_updated_at');
}

/** Of these keys, the ones that name a couple of the organisation (people categories): only those are staged. */
export async function knownPeople(db: Knex, orgId: string, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows: { k: string }[] = await db('organization_members').where({ organization_id: orgId }).whereRaw('lower(email) = any(?)', [keys]).select(db.raw('lower(email) as k'));
  return new Set(rows.map((r) => r.k));
}

/** Of these event ids, the ones of events we created on this integration's calendar. */
export async function knownEvents(db: Knex, integrationId: string, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows: string[] = await db('integration_deliveries')
    .where({ integration_id: integrationId, action: 'calendar.createEvent' })
    .whereIn('provider_reference', keys)
    .pluck('provider_reference');
  return new Set(rows);
}

/** What the comparison needs of both sides and of the last agreement, per record. */
export interface CompareRow {
  record_key: string;
  priority: number;
  progress_id: string | null;
  ours_at: Date | null;
  /** People: the member and their latest tour progress. */
  email?: string;
  user_id?: string;
  display_name?: string | null;
  phone?: string | null;
  status?: string;
  completed_at?: Date | null;
  user_rating?: number | null;
  tour_name?: string;
  /** Calendar: the delivery that created the event, with its sealed call. */
  delivery_id?: string;
  idempotency_key?: string;
  sealed_action?: unknown;
  /** The provider's side, when this pass read it. */
  staged: boolean;
  remote_id: string | null;
  theirs: SyncFields | null;
  theirs_at: Date | null;
  /** The last agreement. */
  base: SyncFields | null;
  local: SyncFields | null;
  synced_at: Date | null;
}

export type ScopeKind = 'people' | 'customers' | 'events';

/**
 * Our side of an integration, as one ordered query: for people (CRM, email) every member with an email
 * and a tour of the organisation, with their latest progress; for customers (payment) only those the
 * hub recorded subscription interest for; for events (calendar) every event we created. Each is joined
 * to this pass's staged records and the last agreement, and ordered by seed 001's sync priority (a
 * completed tour first) then key, so a pass is one keyset scan in batches.
 */
function ours(db: Knex, kind: ScopeKind, orgId: string, integrationId: string): Knex.Raw {
  if (kind === 'events') {
    return db.raw(
      `select d.provider_reference as record_key, 1 as priority, p.id as progress_id, d.updated_at as ours_at,
              d.id as delivery_id, d.idempotency_key, d.sealed_action
         from integration_deliveries d
         left join user_tour_progress p on p.workflow_id = d.workflow_id
        where d.integration_id = ? and d.action = 'calendar.createEvent' and d.status = 'succeeded' and d.provider_reference is not null`,
      [integrationId],
    );
  }
  // Payment: only the couples whose subscription interest reached this integration.
  const customers =
    kind === 'customers'
      ? `and exists (select 1 from integration_deliveries d
                      where d.integration_id = ? and d.status = 'succeeded' and d.action = 'payment.recordSubscriptionInterest'
                        and d.workflow_id = 'tour:' || p.organization_id || ':' || p.user_id || ':' || p.tour_id)`
      : '';
  return db.raw(
    `select distinct on (lower(m.email))
            lower(m.email) as record_key, m.email, m.user_id, m.display_name, m.phone, m.updated_at as ours_at,
            p.id as progress_id, p.status, p.completed_at, p.user_rating, t.name as tour_name, p.updated_at as progress_at,
            case p.status when 'completed' then 1 when 'in_progress' then 2 when 'skipped_all' then 3 when 'not_started' then 4 else 5 end as priority
       from organization_members m
       join user_tour_progress p on p.organization_id = m.organization_id and p.user_id = m.user_id
       join tour_definitions t on t.id = p.tour_id
      where m.organization_id = ? and m.email is not null and m.email <> '' ${customers}
      order by lower(m.email), p.updated_at desc`,
    kind === 'customers' ? [orgId, integrationId] : [orgId],
  );
}

export interface CompareQuery {
  kind: ScopeKind;
  orgId: string;
  integrationId: string;
  runId: string;
  /** Every record (a full pass), or only those the provider reported or we changed since the last agreement. */
  full: boolean;
  after: { priority: number; key: string } | null;
  limit: number;
  /** One record only (applying a conflict's resolution). */
  key?: string;
}

export async function compareBatch(db: Knex, q: CompareQuery): Promise<CompareRow[]> {
  const changedOurs = q.kind === 'events' ? 'false' : '(o.ours_at > r.synced_at or o.progress_at > r.synced_at)';
  const result = await db.raw(
    `select o.*, (s.record_key is not null) as staged, s.remote_id, s.fields as theirs, s.remote_updated_at as theirs_at,
            r.base, r.local, r.synced_at
       from (?) o
       left join sync_remote_records s on s.run_id = ? and s.record_key = o.record_key
       left join sync_records r on r.integration_id = ? and r.record_key = o.record_key
      where (o.priority, o.record_key) > (?, ?)
        and (? or s.record_key is not null or (r.record_key is not null and ${changedOurs}))
        ${q.key !== undefined ? 'and o.record_key = ?' : ''}
      order by o.priority, o.record_key
      limit ?`,
    [ours(db, q.kind, q.orgId, q.integrationId), q.runId, q.integrationId, q.after?.priority ?? 0, q.after?.key ?? '', q.full || q.key !== undefined, ...(q.key !== undefined ? [q.key] : []), q.limit],
  );
  return result.rows;
}

/** The last agreement of records, written after a comparison (in the same transaction as what it decided). */
export async function saveRecords(
  db: Knex,
  rows: { organizationId: string; integrationId: string; key: string; remoteId: string | null; base: SyncFields; local: SyncFields }[],
): Promise<void> {
  if (rows.length === 0) return;
  const values = rows.map((r) => ({
    integration_id: r.integrationId,
    organization_id: r.organizationId,
    record_key: r.key,
    remote_id: r.remoteId,
    base: JSON.stringify(r.base),
    local: JSON.stringify(r.local),
  }));
  await db('sync_records')
    .insert(values)
    .onConflict(['integration_id', 'record_key'])
    .merge({ remote_id: db.raw('coalesce(excluded.remote_id, sync_records.remote_id)'), base: db.raw('excluded.base'), local: db.raw('excluded.local'), synced_at: db.fn.now() });
}

/** Seed 001's sync_timestamps: when each couple's progress was last reconciled with the integration, and whether a conflict waits. */
export async function touchSyncTimestamps(db: Knex, rows: { organizationId: string; progressId: string; integrationId: string; conflict: boolean }[]): Promise<void> {
  if (rows.length === 0) return;
  const values = rows.map((r) => ({ organization_id: r.organizationId, progress_id: r.progressId, integration_id: r.integrationId, sync_status: r.conflict ? 'conflict' : 'completed' }));
  await db('sync_timestamps')
    .insert(values)
    .onConflict(['progress_id', 'integration_id'])
    .merge({ last_synced_at: db.fn.now(), sync_status: db.raw('excluded.sync_status') });
}

/** A person's fields we keep on the member row, written when the provider's value is accepted. */
export async function updateMember(db: Knex, orgId: string, email: string, patch: { display_name?: string | null; phone?: string | null }): Promise<void> {
  if (Object.keys(patch).length === 0) return;
  await db('organization_members').where({ organization_id: orgId }).whereRaw('lower(email) = ?', [email.toLowerCase()]).update(patch);
}
