import type { Person, TaskPriority } from '../../contracts';

/**
 * HoneyBook has no public REST API: every write is one signed JSON envelope posted to the
 * organisation's Zapier or Make catch hook, whose Zap (or scenario) performs the HoneyBook step.
 * `event` is the CrmConnector method name, so one hook can route every kind of write.
 */
export type HoneybookEvent = 'upsertContact' | 'logActivity' | 'createTask' | 'setCustomFields' | 'addNote' | 'ping';

export interface HookEnvelope {
  event: HoneybookEvent;
  idempotency_key: string;
  /** ISO 8601, UTC. */
  occurred_at: string;
  data: Record<string, unknown>;
}

/** The person as flat snake_case fields, the shape Zapier and Make map most easily. Emails are lowercased. */
export interface HookPerson {
  email: string;
  first_name?: string;
  last_name?: string;
  full_name?: string;
  phone?: string;
  external_id?: string;
  wedding_date?: string;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function toHookPerson(person: Person): HookPerson {
  const fullName = [person.firstName, person.lastName].filter((p) => p && p.trim()).join(' ');
  return {
    email: normalizeEmail(person.email),
    ...(person.firstName ? { first_name: person.firstName } : {}),
    ...(person.lastName ? { last_name: person.lastName } : {}),
    ...(fullName ? { full_name: fullName } : {}),
    ...(person.phone ? { phone: person.phone } : {}),
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
  return { event, idempotency_key: idempotencyKey, occurred_at: occurredAt, data };
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

/**
 * The hook URL we post to. The deployment's base URL for HoneyBook (CONNECTOR_BASE_URLS: tests, a
 * local relay) replaces the scheme, host and port and keeps the hook's path and query, so the
 * credential stays the real hook URL.
 */
export function resolveHookUrl(hookUrl: string, baseUrl?: string): URL {
  const hook = new URL(hookUrl);
  if (!baseUrl) return hook;
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/$/, '');
  return new URL(`${prefix}${hook.pathname}${hook.search}`, base.origin);
}

/**
 * What the hook's answer identifies the delivery by. Zapier's catch hooks answer
 * `{"status":"success","request_id":...}`; Make answers the text `Accepted`. Without an id, the
 * idempotency key itself is the reference.
 */
export function deliveryReference(body: unknown, idempotencyKey: string): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const k of ['request_id', 'id']) {
      const v = b[k];
      if (typeof v === 'string' && v) return `request:${v}`;
    }
  }
  return `key:${idempotencyKey}`;
}
