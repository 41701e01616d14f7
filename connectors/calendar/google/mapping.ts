import { createHash } from 'node:crypto';
import type { calendar_v3 } from 'googleapis';
import type { CalendarEventInput } from '../../contracts';
import { capOptional, capText, normalizeAttendees } from '../../normalize';

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
  };
}
