import type { Person, TaskPriority } from '../../contracts';
import { capOptional, fullName, normalizeEmail as emailKey, parsePhone, phoneText } from '../../normalize';
import { envelope as hookEnvelope, type HookEnvelope as Envelope } from '../catch-hook/hook';

/**
 * HoneyBook has no public REST API: every write is one signed JSON envelope posted to the
 * organisation's Zapier or Make catch hook, whose Zap (or scenario) performs the HoneyBook step.
 * `event` is the CrmConnector method name, so one hook can route every kind of write.
 */
export type HoneybookEvent = 'upsertContact' | 'logActivity' | 'createTask' | 'setCustomFields' | 'addNote' | 'ping';

export type HookEnvelope = Envelope<HoneybookEvent>;

/**
 * The Zap maps these into HoneyBook's client form, whose lengths HoneyBook does not publish; 255
 * characters is the common single-line limit (README "Assumptions to verify"). The phone is E.164 with
 * the extension in its own field, so the Zap can map either.
 */
export const PERSON_LIMITS = { name: 255, fullName: 511, phone: 64 } as const;

/** The person as flat snake_case fields, the shape Zapier and Make map most easily. Emails are lowercased. */
export interface HookPerson {
  email: string;
  first_name?: string;
  last_name?: string;
  full_name?: string;
  phone?: string;
  phone_extension?: string;
  external_id?: string;
  wedding_date?: string;
}

export function normalizeEmail(email: string): string {
  return emailKey(email);
}

export function toHookPerson(person: Person): HookPerson {
  const first = capOptional(person.firstName, PERSON_LIMITS.name);
  const last = capOptional(person.lastName, PERSON_LIMITS.name);
  const full = capOptional(fullName({ firstName: first, lastName: last }), PERSON_LIMITS.fullName);
  const parsed = parsePhone(person.phone);
  const phone = parsed ? parsed.e164 : phoneText(person.phone, PERSON_LIMITS.phone);
  return {
    email: normalizeEmail(person.email),
    ...(first ? { first_name: first } : {}),
    ...(last ? { last_name: last } : {}),
    ...(full ? { full_name: full } : {}),
    ...(phone ? { phone } : {}),
    ...(parsed?.extension ? { phone_extension: parsed.extension } : {}),
    ...(person.externalId ? { external_id: person.externalId } : {}),
    ...(person.weddingDate ? { wedding_date: person.weddingDate } : {}),
  };
}

/**
 * The contact id this connector hands back: HoneyBook's own id never reaches us (the hook answers
 * before the Zap runs), and the Zap finds the HoneyBook client by email, so the normalised email is
 * the stable key.
 */
export function contactKey(person: Person, contactId?: string): string {
  return contactId ?? normalizeEmail(person.email);
}

export function envelope(event: HoneybookEvent, idempotencyKey: string, occurredAt: string, data: Record<string, unknown>): HookEnvelope {
  return hookEnvelope(event, idempotencyKey, occurredAt, data);
}

export function contactData(person: Person): Record<string, unknown> {
  return { contact_id: contactKey(person), person: toHookPerson(person) };
}

export function activityData(input: {
  person: Person;
  contactId?: string;
  type: string;
  title: string;
  description: string;
  occurredAt: string;
  metadata?: Record<string, string | number | boolean>;
}): Record<string, unknown> {
  return {
    contact_id: contactKey(input.person, input.contactId),
    person: toHookPerson(input.person),
    type: input.type,
    title: input.title,
    description: input.description,
    occurred_at: input.occurredAt,
    metadata: input.metadata ?? {},
  };
}

export function taskData(input: {
  person: Person;
  contactId?: string;
  title: string;
  description?: string;
  dueDate: string;
  priority: TaskPriority;
}): Record<string, unknown> {
  return {
    contact_id: contactKey(input.person, input.contactId),
    person: toHookPerson(input.person),
    title: input.title,
    ...(input.description ? { description: input.description } : {}),
    due_date: input.dueDate,
    priority: input.priority,
  };
}

export function customFieldsData(input: {
  person: Person;
  contactId?: string;
  fields: Record<string, string | number | boolean | null>;
}): Record<string, unknown> {
  return { contact_id: contactKey(input.person, input.contactId), person: toHookPerson(input.person), fields: input.fields };
}

export function noteData(input: { person: Person; contactId?: string; body: string }): Record<string, unknown> {
  return { contact_id: contactKey(input.person, input.contactId), person: toHookPerson(input.person), body: input.body };
}
