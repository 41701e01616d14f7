import type { Knex } from 'knex';
import type { DeliveryGuard } from '../../connectors/contracts';

/**
 * `skipped`: a route not taken for want of the member's email or phone (`skip_reason`), nothing planned;
 * `suppressed`: a repeat within the window, planned but never sent (`suppressed_reason`);
 * `cancelled`: never to be sent (the person it was for had their data erased).
 */
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'dead' | 'skipped' | 'suppressed' | 'cancelled';

export interface DeliveryRow {
  id: string;
  organization_id: string;
  integration_id: string;
  event_id: string;
  event_type: string;
  action: string;
  idempotency_key: string;
  workflow_id: string;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  payload: Record<string, unknown>;
  /** The planned call, sealed: it names a person. Opened only for a replay. */
  sealed_action: unknown;
  provider_reference: string | null;
  /** Why a repeated effect was not sent (status `suppressed`). */
  suppressed_reason: string | null;
  created_at: Date;
  updated_at: Date;
  delivered_at: Date | null;
}

export interface DeliveryIdentity {
  organizationId: string;
  integrationId: string;
  eventId: string;
  eventType: string;
  action: string;
  idempotencyKey: string;
  workflowId: string;
  payload: Record<string, unknown>;
}

/** The AAD that binds a sealed action to its delivery: copied into another row, it will not open. */
export function actionAad(idempotencyKey: string): string {
  return `integration_deliveries:${idempotencyKey}`;
}

/**
 * Rows for freshly planned deliveries, pending before their first attempt (so health sees a provider
 * whose queue nobody polls). A key that exists already keeps its row: planning twice changes nothing.
 */
export async function insertPlanned(db: Knex, rows: (DeliveryIdentity & { sealedAction: unknown })[]): Promise<void> {
  if (rows.length === 0) return;
  await db('integration_deliveries')
    .insert(rows.map((d) => ({ ...identityColumns(d), sealed_action: JSON.stringify(d.sealedAction) })))
    .onConflict('idempotency_key')
    .ignore();
}

/**
 * Rows for routes that were not taken for want of the member's email or phone: `skipped`, with the
 * reason, and no sealed call (nothing was planned to send). Written once per key, like planned rows.
 */
export async function insertSkipped(db: Knex, rows: (DeliveryIdentity & { reason: string })[]): Promise<void> {
  if (rows.length === 0) return;
  await db('integration_deliveries')
    .insert(rows.map((d) => ({ ...identityColumns(d), status: 'skipped', skip_reason: d.reason.slice(0, 200) })))
    .onConflict('idempotency_key')
    .ignore();
}

/** Which events' effects go out once per window, and how long the window is (0: every time). */
export interface RepeatRule {
  eventTypes: readonly string[];
  windowMs: number;
}

/**
 * Writes a batch of one tour run's planned deliveries (as insertPlanned does) and decides which of them
 * go out: a delivery of a once-per-window event is `suppressed` when the same integration already has a
 * delivery of that event type for this workflow (one couple, one tour) from another event, pending,
 * retrying or delivered, within the window, or from an earlier event of this batch. Returns the keys to
 * send, in order. A transaction-scoped advisory lock on the workflow id makes two plans of one tour
 * decide one after the other, so concurrent plans cannot both send. Planning the same events again
 * sends what was not suppressed the first time, and nothing new is suppressed.
 */
export async function planWithRepeatRule(
  db: Knex,
  workflowId: string,
  rows: (DeliveryIdentity & { sealedAction: unknown })[],
  rule: RepeatRule,
): Promise<Set<string>> {
  const send = new Set<string>();
  if (rows.length === 0) return send;
  await db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`plan:${workflowId}`]);
    const existing = new Map<string, DeliveryStatus>(
      (await trx('integration_deliveries').select('idempotency_key', 'status').whereIn('idempotency_key', rows.map((r) => r.idempotencyKey))).map(
        (r: { idempotency_key: string; status: DeliveryStatus }) => [r.idempotency_key, r.status],
      ),
    );
    const repeatable = rows.filter((r) => rule.eventTypes.includes(r.eventType));
    /** (integration, event type, check-in number) -> the earlier event that went out, and when. */
    const sent = new Map<string, { eventId: string; at: Date }>();
    const slot = (r: { integrationId: string; eventType: string; payload: Record<string, unknown> | null }) =>
      `${r.integrationId}|${r.eventType}|${typeof r.payload?.check_in === 'number' ? r.payload.check_in : ''}`;
    if (rule.windowMs > 0 && repeatable.length > 0) {
      const earlier: { integration_id: string; event_type: string; event_id: string; payload: Record<string, unknown> | null; created_at: Date }[] = await trx('integration_deliveries')
        .select('integration_id', 'event_type', 'event_id', 'payload', 'created_at')
        .whereIn('integration_id', [...new Set(repeatable.map((r) => r.integrationId))])
        .andWhere({ workflow_id: workflowId })
        .whereIn('event_type', [...new Set(repeatable.map((r) => r.eventType))])
        .whereIn('status', ['pending', 'failed', 'succeeded'])
        .andWhere('created_at', '>', trx.raw(`now() - (? * interval '1 millisecond')`, [rule.windowMs]))
        .orderBy('created_at', 'asc');
      for (const e of earlier) {
        const key = slot({ integrationId: e.integration_id, eventType: e.event_type, payload: e.payload });
        if (!sent.has(key)) sent.set(key, { eventId: e.event_id, at: e.created_at });
      }
    }
    const fresh: Record<string, unknown>[] = [];
    for (const r of rows) {
      const status = existing.get(r.idempotencyKey);
      if (status !== undefined) {
        if (status !== 'suppressed') send.add(r.idempotencyKey);
        continue;
      }
      const before = rule.windowMs > 0 && rule.eventTypes.includes(r.eventType) ? sent.get(slot(r)) : undefined;
      if (before && before.eventId !== r.eventId) {
        fresh.push({
          ...identityColumns(r),
          sealed_action: JSON.stringify(r.sealedAction),
          status: 'suppressed',
          suppressed_reason: `${r.eventType} already went to this integration for this couple and tour at ${before.at.toISOString()} (event ${before.eventId}); repeats within ${formatWindow(rule.windowMs)} are not sent (HUB_SUPPRESS_REPEATS_WITHIN)`,
        });
        continue;
      }
      if (rule.eventTypes.includes(r.eventType) && !sent.has(slot(r))) sent.set(slot(r), { eventId: r.eventId, at: new Date() });
      fresh.push({ ...identityColumns(r), sealed_action: JSON.stringify(r.sealedAction) });
      send.add(r.idempotencyKey);
    }
    if (fresh.length > 0) await trx('integration_deliveries').insert(fresh).onConflict('idempotency_key').ignore();
  });
  return send;
}

/** 86400000 -> "24h", 90000 -> "90s": how the window reads in a reason. */
function formatWindow(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function identityColumns(d: DeliveryIdentity) {
  return {
    organization_id: d.organizationId,
    integration_id: d.integrationId,
    event_id: d.eventId,
    event_type: d.eventType,
    action: d.action,
    idempotency_key: d.idempotencyKey,
    workflow_id: d.workflowId,
    payload: JSON.stringify(d.payload),
  };
}

export async function findDelivery(db: Knex, id: string): Promise<DeliveryRow | undefined> {
  return db('integration_deliveries').where({ id }).first();
}

/** The delivery's row, created on its first attempt; a replay finds the same row by its key. */
export async function ensureDelivery(db: Knex, d: DeliveryIdentity): Promise<DeliveryRow> {
  // Planning wrote the row already (the common case): one read. Otherwise (a delivery from before
  // planned rows, or a test calling the activity directly) create it.
  const planned = await db('integration_deliveries').where({ idempotency_key: d.idempotencyKey }).first();
  if (planned) return planned;
  await db('integration_deliveries')
    .insert(identityColumns(d))
    .onConflict('idempotency_key')
    .ignore();
  return db('integration_deliveries').where({ idempotency_key: d.idempotencyKey }).first();
}

export interface AttemptRecord {
  delivery: DeliveryRow;
  provider: string;
  category: string;
  attempt: number;
  success: boolean;
  durationMs: number;
  httpStatus?: number;
  errorClass?: string;
  errorMessage?: string;
  /** What was asked, without values that could hold personal data or secrets. */
  requestSummary: Record<string, unknown>;
  providerReference?: string | null;
  /** A failure that will not be retried: the delivery is dead until an operator replays it. */
  final?: boolean;
}

/** One integration_logs row per attempt, and the delivery's state after it, in one transaction. */
export async function recordAttempt(db: Knex, r: AttemptRecord): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('integration_logs').insert({
      organization_id: r.delivery.organization_id,
      integration_id: r.delivery.integration_id,
      delivery_id: r.delivery.id,
      event_id: r.delivery.event_id,
      integration_type: r.category,
      integration_provider: r.provider,
      action: r.delivery.action,
      attempt: r.attempt,
      success: r.success,
      http_status: r.httpStatus ?? null,
      error_class: r.errorClass ?? null,
      error_message: r.errorMessage?.slice(0, 2000) ?? null,
      request_summary: JSON.stringify(r.requestSummary),
      processing_duration_ms: Math.max(0, Math.round(r.durationMs)),
    });
    await trx('integration_deliveries')
      .where({ id: r.delivery.id })
      .update({
        // Every logged attempt counts, also when a call held back by the breaker is sent again as a new
        // activity (whose attempt numbers start over); an attempt lost with its worker counts through
        // Temporal's attempt number.
        attempts: trx.raw('greatest(attempts + 1, ?)', [r.attempt]),
        status: r.success ? 'succeeded' : r.final ? 'dead' : 'failed',
        last_error: r.success ? null : (r.errorMessage?.slice(0, 2000) ?? null),
        ...(r.success ? { delivered_at: trx.fn.now(), provider_reference: r.providerReference ?? null } : {}),
        updated_at: trx.fn.now(),
      });
  });
}

/** Marks a delivery dead after its retries ran out (the workflow calls this; the activity cannot know). */
export async function markDead(db: Knex, idempotencyKey: string, error: string): Promise<void> {
  await db('integration_deliveries')
    .where({ idempotency_key: idempotencyKey })
    .whereNotIn('status', ['succeeded', 'cancelled'])
    .update({ status: 'dead', last_error: error.slice(0, 2000), updated_at: db.fn.now() });
}

/**
 * Claims a dead delivery for its replay: dead -> pending, in the caller's transaction. False when it is
 * not dead (any more): a concurrent replay claimed it first, or it is pending, retrying or delivered.
 * The row lock makes two claims of one delivery serialise, so only one of them sees it dead.
 */
export async function claimDeadForReplay(db: Knex, deliveryId: string): Promise<boolean> {
  const claimed = await db('integration_deliveries')
    .where({ id: deliveryId, status: 'dead' })
    .update({ status: 'pending', updated_at: db.fn.now() }, ['id']);
  return claimed.length > 0;
}

/** A DeliveryGuard backed by the delivery_guards table, for one integration. */
export function pgDeliveryGuard(db: Knex, integration: { id: string; organization_id: string }): DeliveryGuard {
  return {
    async find(key) {
      const row = await db('delivery_guards').select('state', 'reference').where({ idempotency_key: key }).first();
      if (!row) return null;
      return row.state === 'sent' ? { state: 'sent', reference: row.reference } : { state: 'attempted' };
    },
    async markAttempted(key) {
      await db('delivery_guards')
        .insert({ idempotency_key: key, organization_id: integration.organization_id, integration_id: integration.id, state: 'attempted' })
        .onConflict('idempotency_key')
        .ignore();
    },
    async markSent(key, reference) {
      await db('delivery_guards')
        .insert({ idempotency_key: key, organization_id: integration.organization_id, integration_id: integration.id, state: 'sent', reference })
        .onConflict('idempotency_key')
        .merge({ state: 'sent', reference, updated_at: db.fn.now() });
    },
  };
}

/** A delivery as the dead-letter listing shows it: no payload, no sealed call, only what and where. */
export interface DeliveryListItem {
  id: string;
  integration_id: string;
  provider: string;
  event_id: string;
  event_type: string;
  action: string;
  idempotency_key: string;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  skip_reason: string | null;
  suppressed_reason: string | null;
  created_at: Date;
  updated_at: Date;
  delivered_at: Date | null;
  workflow_id: string;
  /** created_at to the microsecond, UTC, as text: a JS Date would drop the microseconds the keyset needs. */
  position: string;
}

export interface DeliveryListFilter {
  status?: DeliveryStatus;
  integrationId?: string;
  eventType?: string;
  limit: number;
  /** Rows strictly older than this (created_at, id), for the next page. */
  after?: { createdAt: string; id: string };
}

/** Newest first, keyset-paginated on (created_at, id). `db` is a tenant transaction: RLS keeps it to the org's admins. */
export async function listDeliveries(db: Knex, f: DeliveryListFilter): Promise<DeliveryListItem[]> {
  const q = db('integration_deliveries as d')
    .join('organization_integrations as i', 'i.id', 'd.integration_id')
    .select(
      'd.id', 'd.integration_id', 'i.provider', 'd.event_id', 'd.event_type', 'd.action', 'd.idempotency_key', 'd.status',
      'd.attempts', 'd.last_error', 'd.skip_reason', 'd.suppressed_reason', 'd.created_at', 'd.updated_at', 'd.delivered_at', 'd.workflow_id',
      db.raw(`to_char(d.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as position`),
    )
    .orderBy([{ column: 'd.created_at', order: 'desc' }, { column: 'd.id', order: 'desc' }])
    .limit(f.limit);
  if (f.status) q.where('d.status', f.status);
  if (f.integrationId) q.where('d.integration_id', f.integrationId);
  if (f.eventType) q.where('d.event_type', f.eventType);
  if (f.after) q.whereRaw('(d.created_at, d.id) < (?::timestamptz, ?::uuid)', [f.after.createdAt, f.after.id]);
  return q;
}

/** What deciding on a replay needs to know about a delivery and its integration (never the sealed call). */
export interface ReplayCandidate {
  id: string;
  integration_id: string;
  provider: string;
  event_type: string;
  action: string;
  status: DeliveryStatus;
  /** False for rows planned before calls were sealed: there is nothing to re-send. */
  has_sealed_action: boolean;
  integration_active: boolean;
}

const candidateColumns = (db: Knex) => [
  'd.id', 'd.integration_id', 'i.provider', 'd.event_type', 'd.action', 'd.status',
  db.raw('(d.sealed_action is not null) as has_sealed_action'),
  'i.is_active as integration_active',
];

export async function findReplayCandidate(db: Knex, deliveryId: string): Promise<ReplayCandidate | undefined> {
  return db('integration_deliveries as d')
    .join('organization_integrations as i', 'i.id', 'd.integration_id')
    .select(candidateColumns(db))
    .where('d.id', deliveryId)
    .first();
}

/** One integration's dead deliveries, oldest first (the order they were meant to arrive in), and how many there are. */
export async function listDeadCandidates(db: Knex, integrationId: string, limit: number): Promise<{ rows: ReplayCandidate[]; total: number }> {
  const [rows, [count]] = await Promise.all([
    db('integration_deliveries as d')
      .join('organization_integrations as i', 'i.id', 'd.integration_id')
      .select(candidateColumns(db))
      .where({ 'd.integration_id': integrationId, 'd.status': 'dead' })
      .orderBy([{ column: 'd.created_at', order: 'asc' }, { column: 'd.id', order: 'asc' }])
      .limit(limit),
    db('integration_deliveries').where({ integration_id: integrationId, status: 'dead' }).count<{ n: number | string }[]>({ n: '*' }),
  ]);
  return { rows, total: Number(count!.n) };
}
