import type { SyncFields } from '../../../domain/conflict';
import type { Person, RemoteRecord, TaskPriority } from '../../contracts';
import { capOptional, capText, normalizeEmail as emailKey, oneLine, parsePhone } from '../../normalize';

/**
 * Shapes of the VSCO Workspace (formerly Táve) API v2, from its published OpenAPI document
 * (https://workspace.vsco.co/api): `Person` (kind "person") in the address book, `Note`, and
 * `CustomField` / `CustomFieldValue`. Ids are lowercase ULIDs.
 */

export interface TavePhone {
  e164?: string;
  formatted?: string;
}

/** The writable Person fields we own; anything absent is left as it is. */
export interface TavePersonWrite {
  kind: 'person';
  email: string;
  firstName?: string;
  lastName?: string;
  cellPhone?: TavePhone;
  anniversary?: string;
}

export interface TaveContact {
  id: string;
  kind: string;
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  cellPhone?: TavePhone | null;
  /** ServerTimestamp of the last change. */
  modified?: string | null;
  customFields?: TaveCustomFieldValue[] | null;
}

export interface TaveCollection<T> {
  type?: string;
  /** currentPage, totalPages, totalItems, rows (the page size). */
  meta?: { currentPage?: number; totalPages?: number; totalItems?: number; rows?: number };
  items: T[];
}

export interface TaveCustomField {
  id: string;
  name?: string | null;
  token?: string | null;
  canApplyTo?: string;
  kind?: string;
  hidden?: boolean;
}

export interface TaveCustomFieldValue {
  fieldId: string;
  value: string | null;
}

export interface TaveNoteWrite {
  contactId: string;
  contentHtml: string;
  date?: string;
}

export function normalizeEmail(email: string): string {
  return emailKey(email);
}

/**
 * Limits of the API v2 OpenAPI document (https://workspace.vsco.co/api, schemas `Person` and `Phone`):
 * `firstName` and `lastName` at most 48 characters, `Phone.formatted` at most 24. `Phone` has no
 * extension field, so an extension is dropped (the planner sees the number; the couple can be asked).
 */
export const PERSON_LIMITS = { firstName: 48, lastName: 48, phoneFormatted: 24 } as const;

/**
 * `e164` whenever the number parses (libphonenumber, with its extension dropped), otherwise the text as
 * typed in `formatted`, cut to 24 characters; nothing when nothing is left.
 */
export function toTavePhone(phone: string): TavePhone | undefined {
  const parsed = parsePhone(phone);
  if (parsed) return { e164: parsed.e164 };
  const typed = capText(oneLine(phone), PERSON_LIMITS.phoneFormatted);
  return typed === '' ? undefined : { formatted: typed };
}

/** Our values as Táve keeps them (two-way sync compares these): names cut as toTavePerson cuts them, the phone as toTavePhone sends it. */
export function taveStoredFields(fields: SyncFields): SyncFields {
  const out = { ...fields };
  if (typeof out.first_name === 'string') out.first_name = capOptional(out.first_name, PERSON_LIMITS.firstName) ?? null;
  if (typeof out.last_name === 'string') out.last_name = capOptional(out.last_name, PERSON_LIMITS.lastName) ?? null;
  if (typeof out.phone === 'string') {
    const phone = toTavePhone(out.phone);
    out.phone = phone?.e164 ?? phone?.formatted ?? null;
  }
  return out;
}

/** A wedding date is the couple's anniversary in Táve's Person schema. Only YYYY-MM-DD is sent. */
export function toTavePerson(person: Person): TavePersonWrite {
  const wedding = person.weddingDate && /^\d{4}-\d{2}-\d{2}/.test(person.weddingDate) ? person.weddingDate.slice(0, 10) : undefined;
  const firstName = capOptional(person.firstName, PERSON_LIMITS.firstName);
  const lastName = capOptional(person.lastName, PERSON_LIMITS.lastName);
  const cellPhone = person.phone ? toTavePhone(person.phone) : undefined;
  return {
    kind: 'person',
    email: normalizeEmail(person.email),
    ...(firstName ? { firstName } : {}),
    ...(lastName ? { lastName } : {}),
    ...(cellPhone ? { cellPhone } : {}),
    ...(wedding ? { anniversary: wedding } : {}),
  };
}

/**
 * The `email` filter of GET /address-book ranks partial matches too, so the exact match is picked
 * here: a person whose email equals ours, ignoring case.
 */
export function pickContactByEmail(collection: TaveCollection<TaveContact>, email: string): TaveContact | undefined {
  const wanted = normalizeEmail(email);
  const exact = collection.items.filter((c) => typeof c.email === 'string' && normalizeEmail(c.email) === wanted);
  return exact.find((c) => c.kind === 'person') ?? exact[0];
}

/** Custom fields are addressed by id; our settings name them by name or by token, case-insensitively. */
export function resolveCustomFields(
  fields: Record<string, string | number | boolean | null>,
  definitions: TaveCustomField[],
): { values: TaveCustomFieldValue[]; unknown: string[] } {
  const byKey = new Map<string, TaveCustomField>();
  for (const def of definitions) {
    if (def.canApplyTo && def.canApplyTo.toLowerCase() !== 'contact') continue;
    for (const key of [def.name, def.token]) if (key) byKey.set(key.trim().toLowerCase(), def);
  }
  const values: TaveCustomFieldValue[] = [];
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    const def = byKey.get(name.trim().toLowerCase());
    if (!def) unknown.push(name);
    else values.push({ fieldId: def.id, value: toCustomFieldValue(value) });
  }
  return { values, unknown };
}

/** CustomFieldValue.value is a nullable string in the schema. */
export function toCustomFieldValue(value: string | number | boolean | null): string | null {
  if (value === null) return null;
  return String(value);
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Paragraphs from blank-line-separated text, single newlines as <br>. */
function paragraphs(text: string): string {
  return text
    .split(/\r?\n\s*\r?\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => `<p>${escapeHtml(p).replace(/\r?\n/g, '<br>')}</p>`)
    .join('');
}

/** The YYYY-MM-DD part of an ISO timestamp (Note.date is a date in the studio's zone). */
export function datePart(iso: string): string | undefined {
  return /^\d{4}-\d{2}-\d{2}/.test(iso) ? iso.slice(0, 10) : undefined;
}

/**
 * The API has no activity or timeline resource, so an activity is a Note on the contact whose first
 * line says what it is: `[Tourhub activity: tour_started]`.
 */
export function activityNote(
  contactId: string,
  input: { type: string; title: string; description: string; occurredAt: string; metadata?: Record<string, string | number | boolean> },
): TaveNoteWrite {
  const meta = Object.entries(input.metadata ?? {});
  const date = datePart(input.occurredAt);
  return {
    contactId,
    contentHtml:
      `<p><strong>[Tourhub activity: ${escapeHtml(input.type)}]</strong> ${escapeHtml(input.title)}</p>` +
      paragraphs(input.description) +
      `<p>Occurred at ${escapeHtml(input.occurredAt)}</p>` +
      (meta.length ? `<ul>${meta.map(([k, v]) => `<li>${escapeHtml(k)}: ${escapeHtml(String(v))}</li>`).join('')}</ul>` : ''),
    ...(date ? { date } : {}),
  };
}

/** The API has no task resource either: a task is a Note headed `[Tourhub task, <priority> priority, due <date>]`. */
export function taskNote(contactId: string, input: { title: string; description?: string; dueDate: string; priority: TaskPriority }): TaveNoteWrite {
  return {
    contactId,
    contentHtml:
      `<p><strong>[Tourhub task, ${input.priority} priority, due ${escapeHtml(input.dueDate)}]</strong> ${escapeHtml(input.title)}</p>` +
      (input.description ? paragraphs(input.description) : ''),
  };
}

export function plainNote(contactId: string, body: string): TaveNoteWrite {
  return { contactId, contentHtml: `<p><strong>[Tourhub note]</strong></p>${paragraphs(body)}` };
}

/** `''` and missing are the same "no value" to two-way sync. */
const orNull = (v: string | null | undefined) => (v === undefined || v === null || v.trim() === '' ? null : v.trim());

/**
 * A Person as two-way sync compares it: keyed by its lower-cased email (the API's natural key), with our
 * field names. Custom field values appear under both the field's name and its token, lower-cased, since
 * an integration's field mapping may name either. Companies, locations and people without an email are
 * nobody we sync.
 */
export function taveContactRecord(contact: TaveContact, definitions: TaveCustomField[]): RemoteRecord | undefined {
  if (contact.kind !== 'person' || typeof contact.email !== 'string' || contact.email.trim() === '') return undefined;
  const byId = new Map(definitions.map((d) => [d.id, d]));
  const fields: SyncFields = {
    first_name: orNull(contact.firstName),
    last_name: orNull(contact.lastName),
    phone: orNull(contact.cellPhone?.e164 ?? contact.cellPhone?.formatted),
  };
  for (const value of contact.customFields ?? []) {
    const def = byId.get(value.fieldId);
    if (!def) continue;
    for (const name of [def.name, def.token]) if (name) fields[`custom:${name.trim().toLowerCase()}`] = orNull(value.value);
  }
  return { key: normalizeEmail(contact.email), remoteId: contact.id, fields, updatedAt: contact.modified ?? null };
}
