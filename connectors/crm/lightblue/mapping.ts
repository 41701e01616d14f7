import type { Person, TaskPriority } from '../../contracts';
import { capOptional, normalizeEmail as emailKey, phoneText } from '../../normalize';

/**
 * Light Blue's inbound API (https://online.lightbluesoftware.com/api.php) accepts one request type,
 * "contact form": form fields that land as an item in the Light Blue Inbox, where the photographer
 * imports them into a new or existing contact or shoot. `Message` is shown in the Inbox and, once the
 * item is linked to a record, in that record's Activity panel. Parameter names are Light Blue's.
 */
export type LightBlueParams = Record<string, string>;

/** Sent as `Source`: with `ID`, the pair Light Blue de-duplicates requests on. */
export const SOURCE = 'Tourhub';
export const SOURCE_API_VERSION = '1';

/** Result codes documented for api.php ("HTTP POST result"). */
export const RESULT = { success: 0, invalidType: -3, duplicate: -4, httpsRequired: -20 } as const;

export function normalizeEmail(email: string): string {
  return emailKey(email);
}

/**
 * Light Blue documents the parameter names of api.php but no lengths. Its contact fields are single-line
 * "Text" fields, so names and the phone are capped at 255 characters, the common single-line limit;
 * see README "Assumptions to verify". The phone is free text there, so its extension is kept.
 */
export const CONTACT_LIMITS = { name: 255, phone: 255 } as const;

export function contactParams(person: Person): LightBlueParams {
  const first = capOptional(person.firstName, CONTACT_LIMITS.name);
  const last = capOptional(person.lastName, CONTACT_LIMITS.name);
  const phone = phoneText(person.phone, CONTACT_LIMITS.phone);
  return {
    ContactEmail: normalizeEmail(person.email),
    ...(first ? { ContactNameFirst: first } : {}),
    ...(last ? { ContactNameLast: last } : {}),
    ...(phone ? { ContactPhone: phone } : {}),
  };
}

/**
 * One api.php request: the person (so the Inbox can match the contact), the message, and the
 * advanced parameters `Source`, `SourceAPIVersion` and `ID`. `ID` is our idempotency key: Light Blue
 * answers -4 to a second request with the same Source and ID instead of creating a second Inbox item.
 */
export function requestParams(idempotencyKey: string, person: Person, message: string): LightBlueParams {
  return {
    ...contactParams(person),
    Message: message,
    Source: SOURCE,
    SourceAPIVersion: SOURCE_API_VERSION,
    ID: idempotencyKey,
  };
}

function personLines(person: Person): string[] {
  const name = [person.firstName, person.lastName].filter(Boolean).join(' ');
  return [
    ...(name ? [`Name: ${name}`] : []),
    `Email: ${normalizeEmail(person.email)}`,
    ...(person.phone ? [`Phone: ${phoneText(person.phone, CONTACT_LIMITS.phone) ?? ''}`] : []),
    ...(person.weddingDate ? [`Wedding date: ${person.weddingDate}`] : []),
    ...(person.externalId ? [`Tourhub user id: ${person.externalId}`] : []),
  ];
}

export function contactMessage(person: Person): string {
  return ['[Tourhub contact] Contact details from Tourhub', ...personLines(person)].join('\n');
}

/** Light Blue's API cannot write an activity: the Inbox message is what shows in the Activity panel. */
export function activityMessage(input: {
  type: string;
  title: string;
  description: string;
  occurredAt: string;
  metadata?: Record<string, string | number | boolean>;
}): string {
  return [
    `[Tourhub activity: ${input.type}] ${input.title}`,
    input.description,
    `Occurred at: ${input.occurredAt}`,
    ...Object.entries(input.metadata ?? {}).map(([k, v]) => `${k}: ${String(v)}`),
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** Nor a task: the message says it is one, with its priority and due date, for the planner to act on. */
export function taskMessage(input: { title: string; description?: string; dueDate: string; priority: TaskPriority }): string {
  return [`[Tourhub task, ${input.priority} priority, due ${input.dueDate}] ${input.title}`, ...(input.description ? [input.description] : [])].join('\n');
}

/** Nor custom fields: they are listed one per line, `name: value`. */
export function customFieldsMessage(fields: Record<string, string | number | boolean | null>): string {
  return ['[Tourhub fields] Updated details from Tourhub', ...Object.entries(fields).map(([k, v]) => `${k}: ${v === null ? '(cleared)' : String(v)}`)].join('\n');
}

export function noteMessage(body: string): string {
  return `[Tourhub note]\n${body}`;
}

/**
 * api.php and apiCheck.php answer a status code and, on an error, a summary on the next line (Light
 * Blue's own WordPress plugins split the body on a carriage return). Undefined if there is no code.
 */
export function parseResult(body: unknown): { code: number; message?: string } | undefined {
  const text = typeof body === 'string' ? body : typeof body === 'number' ? String(body) : undefined;
  if (text === undefined) return undefined;
  const [first, ...rest] = text.split(/\r\n|\r|\n/);
  const code = (first ?? '').trim();
  if (!/^-?\d+$/.test(code)) return undefined;
  const message = rest.join(' ').trim();
  return { code: Number(code), ...(message ? { message } : {}) };
}
