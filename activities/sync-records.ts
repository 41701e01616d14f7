/**
 * Two-way sync's view of a record on each side, per kind of integration, and the provider calls that
 * carry our side back: what the comparison (activities/sync.ts) feeds domain/conflict.ts, and what it
 * plans from the decisions. People (CRM, email) and customers (payment) are keyed by lower-cased email
 * and come from the member row and their latest tour; events (calendar) by event id and come from the
 * call that created them.
 */
import { createHash } from 'node:crypto';
import { localToUtc } from '../connectors/calendar/outlook/mapping';
import { parsePhone } from '../connectors/normalize';
import { actionAad, insertPlanned } from '../db/repositories/deliveries';
import type { IntegrationRow } from '../db/repositories/integrations';
import type { CompareRow, ScopeKind } from '../db/repositories/sync';
import type { SecretBox } from '../db/secrets';
import type { SyncFields, SyncSide, SyncValue } from '../domain/conflict';
import { EMAIL_TAGS, type Category, type HubPerson, type PlannedAction, type PlannedDelivery, type PlannedEvent } from '../domain/hub';
import { requestSummary } from './deliver';

export function scopeOf(category: Category): ScopeKind | undefined {
  switch (category) {
    case 'crm':
    case 'email':
      return 'people';
    case 'payment':
      return 'customers';
    case 'calendar':
      return 'events';
    case 'sms':
      return undefined;
  }
}

/** The person fields that live on our member row: accepting the provider's value writes them there. */
export const MEMBER_FIELDS: ReadonlySet<string> = new Set(['first_name', 'last_name', 'phone']);
/** The event fields we keep in sync_records.local (the call that created the event is sealed and never changes). */
export const EVENT_FIELDS: ReadonlySet<string> = new Set(['start', 'end', 'summary', 'cancelled']);

/**
 * A phone as two-way sync compares it: E.164 when it parses (as every connector sends it, an extension
 * left out), otherwise as typed. Our member row keeps the couple's own spelling (`+1 (415) 555-0123`)
 * while the provider holds what we sent (`+14155550123`): the same number must not be a conflict.
 */
export function comparablePhone(value: SyncValue | undefined): SyncValue | undefined {
  return typeof value === 'string' ? (parsePhone(value)?.e164 ?? value) : value;
}

/** Display names are free text: the first word is the first name, the rest the last (as planning reads them). */
export function splitName(displayName: string | null | undefined): { first: string | null; last: string | null } {
  const [first, ...rest] = String(displayName ?? '').trim().split(/\s+/).filter(Boolean);
  return { first: first ?? null, last: rest.length ? rest.join(' ') : null };
}

export function joinName(first: SyncValue | undefined, last: SyncValue | undefined): string | null {
  const name = [first, last].filter((v) => typeof v === 'string' && v.trim() !== '').join(' ');
  return name || null;
}

/** What a mapped CRM custom field says of a tour: the values planning writes on completion (domain/routes.ts). */
function progressValue(ours: string, row: CompareRow): SyncValue | undefined {
  switch (ours) {
    case 'tour_completed_at':
      return row.status === 'completed' && row.completed_at ? new Date(row.completed_at).toISOString() : undefined;
    case 'tour_name':
      return row.tour_name;
    case 'tour_rating':
      return row.user_rating !== null && row.user_rating !== undefined ? String(row.user_rating) : undefined;
    default:
      return undefined;
  }
}

/** UTC `YYYY-MM-DDTHH:mm:ssZ` as wall-clock time in `timeZone` (`YYYY-MM-DDTHH:mm:ss`), for a calendar call. */
export function utcToLocal(utc: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utc));
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}`;
}

export interface OurRecord {
  side: SyncSide;
  /** The original names of mapped custom fields, by their lower-cased form (CRM). */
  customNames: Map<string, string>;
  /** The event as created (calendar). */
  event?: PlannedEvent;
}

/** Our side of a record. `openEvent` opens a calendar row's sealed call. */
export function ourRecord(category: Category, row: CompareRow, fieldMapping: Record<string, string>, openEvent: (row: CompareRow) => PlannedEvent | undefined): OurRecord | undefined {
  const at = row.ours_at ? new Date(row.ours_at).toISOString() : null;
  const customNames = new Map<string, string>();
  if (category === 'calendar') {
    const event = openEvent(row);
    if (!event) return undefined;
    const fields: SyncFields = {
      start: `${localToUtc(event.start, event.timeZone)}Z`,
      end: `${localToUtc(event.end, event.timeZone)}Z`,
      summary: event.summary,
      cancelled: false,
      ...(row.local ?? {}),
    };
    return { side: { fields, at }, customNames, event };
  }
  const { first, last } = splitName(row.display_name);
  if (category === 'payment') {
    return { side: { fields: { name: joinName(first, last), phone: comparablePhone(row.phone) ?? null, user_id: row.user_id ?? null }, at }, customNames };
  }
  const fields: SyncFields = { first_name: first, last_name: last };
  if (category === 'crm') {
    fields.phone = comparablePhone(row.phone) ?? null;
    for (const [ours, theirs] of Object.entries(fieldMapping)) {
      const value = progressValue(ours, row);
      if (value === undefined) continue;
      const name = theirs.trim().toLowerCase();
      customNames.set(name, theirs);
      fields[`progress:${name}`] = value;
    }
  }
  if (category === 'email' && row.status === 'completed') {
    fields[`tag:${EMAIL_TAGS.onboarded}`] = true;
    fields[`tag:${EMAIL_TAGS.completed}`] = true;
  }
  return { side: { fields, at }, customNames };
}

/**
 * The provider's side: what this pass read; else (an incremental pass) the last agreement, since a
 * provider reports every change; else (a full pass) nothing, the record is missing. A missing event was
 * deleted by the planner. Fields ours holds that a record read lacks are known to be empty there: an
 * unset custom field, a tag not applied.
 */
export function theirRecord(category: Category, row: CompareRow, ours: SyncFields, full: boolean): SyncSide | undefined {
  if (!row.staged) {
    if (!full && row.base) return { fields: row.base, at: row.synced_at ? new Date(row.synced_at).toISOString() : null };
    return category === 'calendar' ? { fields: { cancelled: true }, at: null } : undefined;
  }
  const fields: SyncFields = {};
  for (const [name, value] of Object.entries(row.theirs ?? {})) fields[name.startsWith('custom:') ? `progress:${name.slice(7)}` : name] = name === 'phone' ? comparablePhone(value)! : value;
  for (const name of Object.keys(ours)) {
    if (name in fields) continue;
    if (name.startsWith('tag:')) fields[name] = false;
    else if (name.startsWith('progress:')) fields[name] = null;
  }
  return { fields, at: row.theirs_at ? new Date(row.theirs_at).toISOString() : null };
}

/** Stable JSON (sorted keys), so the same call always hashes the same. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as Record<string, unknown>)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export const digest = (text: string, length = 32) => createHash('sha256').update(text).digest('hex').slice(0, length);

/**
 * The key of a sync push: the integration, the record and the exact call. The same push in a later pass
 * (the first one not yet through) has the same key, so the provider is sent it once.
 */
export function pushKey(integrationId: string, recordKey: string, action: PlannedAction): string {
  return `sync:${integrationId}:${digest(`${recordKey}\n${action.method}\n${stable(action.input)}`)}:${action.method}`;
}

function person(email: string, target: SyncFields, userId?: string): HubPerson {
  const text = (v: SyncValue | undefined) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  const first = text(target.first_name);
  const last = text(target.last_name);
  const phone = text(target.phone);
  return { email, ...(first ? { firstName: first } : {}), ...(last ? { lastName: last } : {}), ...(phone ? { phone } : {}), ...(userId ? { externalId: userId } : {}) };
}

/**
 * The calls that bring the provider to `target` (fields to hold there; fields under a conflict are
 * absent, so nothing is said of them), given which fields must change (`changed`; everything when the
 * record is missing).
 */
export function pushActions(category: Category, row: CompareRow, ours: OurRecord, target: SyncFields, changed: Set<string>, missing: boolean): PlannedAction[] {
  const any = (pred: (f: string) => boolean) => missing || [...changed].some(pred);
  switch (category) {
    case 'crm': {
      const actions: PlannedAction[] = [];
      const who = person(row.email!, target);
      if (any((f) => MEMBER_FIELDS.has(f))) actions.push({ category, method: 'upsertContact', input: { person: who } });
      const fields: Record<string, string | number | boolean | null> = {};
      for (const f of Object.keys(target)) {
        if (!f.startsWith('progress:') || !(missing || changed.has(f))) continue;
        fields[ours.customNames.get(f.slice(9)) ?? f.slice(9)] = target[f]!;
      }
      if (Object.keys(fields).length > 0) actions.push({ category, method: 'setCustomFields', input: { person: who, fields } });
      return actions;
    }
    case 'email': {
      const actions: PlannedAction[] = [];
      if (any((f) => f === 'first_name' || f === 'last_name')) actions.push({ category, method: 'upsertSubscriber', input: { person: person(row.email!, target), mergeFields: {} } });
      const tags = Object.keys(target).filter((f) => f.startsWith('tag:') && target[f] === true && (missing || changed.has(f)));
      if (tags.length > 0) actions.push({ category, method: 'addTags', input: { email: row.email!, tags: tags.map((t) => t.slice(4)) } });
      return actions;
    }
    case 'payment':
      // A customer the planner deleted is theirs to delete: we never create one back.
      if (missing || changed.size === 0) return [];
      return [{ category, method: 'upsertCustomer', input: { person: person(row.email!, { first_name: splitName(String(target.name ?? '')).first, last_name: splitName(String(target.name ?? '')).last, phone: target.phone ?? null }, String(target.user_id ?? row.user_id)), metadata: {} } }];
    case 'calendar': {
      // Cancelling is the planner's call, and un-cancelling is not ours: only time and title are sent.
      if (!ours.event || ![...changed].some((f) => f === 'start' || f === 'end' || f === 'summary')) return [];
      const tz = ours.event.timeZone;
      const at = (f: 'start' | 'end') => (typeof target[f] === 'string' && /Z$/.test(String(target[f])) ? utcToLocal(String(target[f]), tz) : ours.event![f]);
      const event: PlannedEvent = { ...ours.event, start: at('start'), end: at('end'), summary: typeof target.summary === 'string' ? target.summary : ours.event.summary };
      return [{ category, method: 'updateEvent', input: { eventId: row.record_key, event } }];
    }
    case 'sms':
      return [];
  }
}

/** The sealed call of a calendar delivery, as planned (its start and end are local times in its zone). */
export function openEvent(box: SecretBox) {
  return (row: { sealed_action?: unknown; idempotency_key?: string }): PlannedEvent | undefined => {
    if (!row.sealed_action || !row.idempotency_key) return undefined;
    const action = box.open<PlannedAction>(row.sealed_action as never, actionAad(row.idempotency_key));
    return action.method === 'createEvent' ? action.input : undefined;
  };
}

/**
 * Planned calls as delivery rows, each call sealed to its key (it names a person), so health sees them
 * waiting and a replay re-sends exactly what was planned: for insertPlanned, or the tour's planning with
 * its repeat rule (planWithRepeatRule).
 */
export function sealedRows(box: SecretBox, planned: PlannedDelivery[], orgOf: (integrationId: string) => string): Parameters<typeof insertPlanned>[1] {
  return planned.map((p) => ({
    organizationId: orgOf(p.integrationId),
    integrationId: p.integrationId,
    eventId: p.eventId,
    eventType: p.eventType,
    action: `${p.action.category}.${p.action.method}`,
    idempotencyKey: p.idempotencyKey,
    workflowId: p.workflowId,
    payload: requestSummary(p.action),
    sealedAction: box.seal(p.action, actionAad(p.idempotencyKey)),
  }));
}

/** Two-way sync's calls to one integration, planned like the hub's (workflow `sync:{integrationId}`). */
export async function planSyncDeliveries(
  db: Parameters<typeof insertPlanned>[0],
  box: SecretBox,
  integration: IntegrationRow,
  calls: { eventId: string; eventType: string; idempotencyKey: string; action: PlannedAction }[],
): Promise<PlannedDelivery[]> {
  const workflowId = `sync:${integration.id}`;
  const planned = calls.map((c) => ({
    workflowId,
    eventId: c.eventId,
    eventType: c.eventType,
    integrationId: integration.id,
    idempotencyKey: c.idempotencyKey,
    action: c.action,
    provider: integration.provider,
    category: integration.type as Category,
  }));
  // A key already planned keeps its row: a pass planned twice changes nothing.
  await insertPlanned(db, sealedRows(box, planned, () => integration.organization_id));
  return planned;
}
