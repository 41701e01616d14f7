import type { Person, TaskPriority } from '../../contracts';
import { capOptional, capText, fullName, normalizeEmail, parsePhone } from '../../normalize';
import { envelope as hookEnvelope, type HookEnvelope } from '../catch-hook/hook';

/**
 * PocketSuite has no public API: the endpoints its support site documents
 * (https://support.pocketsuite.io/hc/en-us/articles/41955941230605-Zapier-API-Documentation) are the
 * back end of its own Zapier app, reached only through Zapier's OAuth. Its Zapier actions create or
 * update a client and add a client note, so every write here is one signed envelope to the planner's
 * catch hook whose Zap runs those two actions. `event` is the CrmConnector method.
 */
export type PocketSuiteEvent = 'upsertContact' | 'logActivity' | 'createTask' | 'setCustomFields' | 'addNote' | 'ping';

export type PocketSuiteEnvelope = HookEnvelope<PocketSuiteEvent>;

/**
 * PocketSuite publishes no field lengths; 255 is the common single-line limit and 5,000 a note length
 * every CRM we know takes (README "Assumptions to verify"). PocketSuite is used mostly in the US and
 * Canada, where a client's phone is the 10-digit national number, so both forms are sent.
 */
export const CLIENT_LIMITS = { name: 255, note: 5000 } as const;

/** The client as flat snake_case fields, the shape Zapier maps most easily into "Create Client". */
export interface PocketSuiteClient {
  email: string;
  first_name?: string;
  last_name?: string;
  full_name?: string;
  /** E.164. */
  phone?: string;
  /** The national number without country code, as PocketSuite's client form shows it in the US. */
  phone_national?: string;
  phone_extension?: string;
  wedding_date?: string;
  external_id?: string;
}

export function toClient(person: Person): PocketSuiteClient {
  const first = capOptional(person.firstName, CLIENT_LIMITS.name);
  const last = capOptional(person.lastName, CLIENT_LIMITS.name);
  const full = capOptional(fullName({ firstName: first, lastName: last }), CLIENT_LIMITS.name);
  const phone = parsePhone(person.phone);
  return {
    email: normalizeEmail(person.email),
    ...(first ? { first_name: first } : {}),
    ...(last ? { last_name: last } : {}),
    ...(full ? { full_name: full } : {}),
    ...(phone ? { phone: phone.e164, phone_national: phone.nationalNumber } : {}),
    ...(phone?.extension ? { phone_extension: phone.extension } : {}),
    ...(person.weddingDate ? { wedding_date: person.weddingDate.slice(0, 10) } : {}),
    ...(person.externalId ? { external_id: person.externalId } : {}),
  };
}

/** The Zap finds the client by email; the normalised email is the contact id we hand back. */
export function clientKey(person: Person, contactId?: string): string {
  return contactId ?? normalizeEmail(person.email);
}

/** Every event carries the text of the note the Zap's "Add Client Note" step writes (none for a plain upsert). */
function data(person: Person, contactId: string | undefined, note: string | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { client_id: clientKey(person, contactId), client: toClient(person), ...(note ? { note: capText(note, CLIENT_LIMITS.note) } : {}), ...extra };
}

export function contactEnvelope(person: Person, key: string, at: string): PocketSuiteEnvelope {
  return hookEnvelope('upsertContact', key, at, data(person, undefined, undefined));
}

export function activityEnvelope(
  input: { person: Person; contactId?: string; type: string; title: string; description: string; occurredAt: string; metadata?: Record<string, string | number | boolean> },
  key: string,
): PocketSuiteEnvelope {
  const note = [`[Tourhub activity: ${input.type}] ${input.title}`, input.description, `Occurred at ${input.occurredAt}`].filter(Boolean).join('\n');
  return hookEnvelope('logActivity', key, input.occurredAt, data(input.person, input.contactId, note, { type: input.type, metadata: input.metadata ?? {} }));
}

export function taskEnvelope(
  input: { person: Person; contactId?: string; title: string; description?: string; dueDate: string; priority: TaskPriority },
  key: string,
  at: string,
): PocketSuiteEnvelope {
  const note = [`[Tourhub task, ${input.priority} priority, due ${input.dueDate}] ${input.title}`, ...(input.description ? [input.description] : [])].join('\n');
  return hookEnvelope('createTask', key, at, data(input.person, input.contactId, note, { due_date: input.dueDate, priority: input.priority }));
}

export function customFieldsEnvelope(
  input: { person: Person; contactId?: string; fields: Record<string, string | number | boolean | null> },
  key: string,
  at: string,
): PocketSuiteEnvelope {
  const note = ['[Tourhub fields]', ...Object.entries(input.fields).map(([k, v]) => `${k}: ${v === null ? '(cleared)' : String(v)}`)].join('\n');
  return hookEnvelope('setCustomFields', key, at, data(input.person, input.contactId, note, { fields: input.fields }));
}

export function noteEnvelope(input: { person: Person; contactId?: string; body: string }, key: string, at: string): PocketSuiteEnvelope {
  return hookEnvelope('addNote', key, at, data(input.person, input.contactId, `[Tourhub note]\n${input.body}`));
}
