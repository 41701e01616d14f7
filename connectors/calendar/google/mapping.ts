import { createHash } from 'node:crypto';
import type { calendar_v3 } from 'googleapis';
import type { SyncFields } from '../../../domain/conflict';
import type { CalendarEventInput, RemoteRecord } from '../../contracts';
import { capOptional, capText, normalizeAttendees } from '../../normalize';
import { localToUtc } from '../outlook/mapping';

/**
 * Google publishes no length limits for an event's text fields
 * (https://developers.google.com/workspace/calendar/api/v3/reference/events); these caps keep a
 * 300-character couple name from ever being the reason an insert fails. README "Assumptions to verify".
 */
export const EVENT_LIMITS = { summary: 1024, description: 8192, location: 1024, attendeeName: 255 } as const;

/** RFC 4648 §7 "base32hex", lowercased: exactly the characters Google allows in an event id (a-v, 0-9). */
const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

/** Lowercase base32hex without padding. */
export function base32hex(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32HEX[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32HEX[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * The Google event id for an idempotency key: base32hex of SHA-256(key), 52 characters. Google lets the
 * client choose the id (base32hex, 5-1024 characters, unique per calendar), so a retried insert with the
 * same key collides with the first one (409) instead of creating a second event.
 */
export function googleEventId(idempotencyKey: string): string {
  return base32hex(createHash('sha256').update(idempotencyKey, 'utf8').digest());
}

/** Google's own rule for client-chosen ids. */
export function isValidGoogleEventId(id: string): boolean {
  return /^[a-v0-9]{5,1024}$/.test(id);
}

/**
 * Our event as a Google Calendar event resource. `start`/`end` are local wall-clock times: Google takes
 * `dateTime` without an offset when `timeZone` names the zone. `id` is set on insert only.
 */
export function toGoogleEvent(input: CalendarEventInput, id?: string): calendar_v3.Schema$Event {
  return {
    ...(id !== undefined ? { id } : {}),
    summary: capText(input.summary, EVENT_LIMITS.summary),
    ...(input.description !== undefined ? { description: capText(input.description, EVENT_LIMITS.description) } : {}),
    ...(capOptional(input.location, EVENT_LIMITS.location) !== undefined ? { location: capOptional(input.location, EVENT_LIMITS.location)! } : {}),
    start: { dateTime: input.start, timeZone: input.timeZone },
    end: { dateTime: input.end, timeZone: input.timeZone },
    attendees: normalizeAttendees(input.attendees, EVENT_LIMITS.attendeeName).map((a) => ({ email: a.email, ...(a.name !== undefined ? { displayName: a.name } : {}) })),
    // Google keeps at most 5 overrides, each 0 to 40320 minutes (4 weeks) before the start.
    ...(input.reminders
      ? { reminders: { useDefault: false, overrides: input.reminders.slice(0, 5).map((r) => ({ method: r.method, minutes: Math.min(Math.max(Math.round(r.minutes), 0), 40_320) })) } }
      : {}),
  };
}

/** Our values as Google keeps them (two-way sync compares these): the title cut as toGoogleEvent cuts it. */
export function googleStoredFields(fields: SyncFields): SyncFields {
  return typeof fields.summary === 'string' ? { ...fields, summary: capText(fields.summary, EVENT_LIMITS.summary) } : fields;
}

/**
 * An event time as UTC `YYYY-MM-DDTHH:mm:ssZ`: an RFC 3339 date-time with its offset as Google sends it,
 * or a wall-clock time in the event's zone; a whole-day date as it is; else null.
 */
export function utcInstant(value: string | null | undefined, timeZone?: string | null): string | null {
  if (!value) return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) {
    try {
      return `${localToUtc(value, timeZone ?? 'UTC')}Z`;
    } catch {
      return null;
    }
  }
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : `${new Date(t).toISOString().slice(0, 19)}Z`;
}

/**
 * An event as two-way sync compares it, keyed by its id. A cancelled event (deleted, in an incremental
 * sync) carries only its id and status: only `cancelled` is known then.
 */
export function googleEventRecord(event: calendar_v3.Schema$Event): RemoteRecord | undefined {
  if (!event.id) return undefined;
  const updatedAt = event.updated ?? null;
  if (event.status === 'cancelled') return { key: event.id, remoteId: event.id, fields: { cancelled: true }, updatedAt };
  return {
    key: event.id,
    remoteId: event.id,
    fields: {
      start: utcInstant(event.start?.dateTime ?? event.start?.date, event.start?.timeZone),
      end: utcInstant(event.end?.dateTime ?? event.end?.date, event.end?.timeZone),
      summary: event.summary ?? null,
      cancelled: false,
    },
    updatedAt,
  };
}
