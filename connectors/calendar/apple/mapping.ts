import { createHash } from 'node:crypto';
import ical from 'ical-generator';
import type { CalendarEventInput } from '../../contracts';
import { capOptional, capText, normalizeAttendees, normalizeEmail } from '../../normalize';
import { localToUtc } from '../outlook/mapping';

/**
 * iCloud Calendar over CalDAV (RFC 4791): an event is one iCalendar object (RFC 5545) PUT into the
 * calendar collection at `<uid>.ics`. Pure: no I/O, the clock arrives as an argument.
 */

export const ICLOUD_ROOT_URL = 'https://caldav.icloud.com/';
/** caldav.icloud.com answers discovery; each account's calendars live on its partition, pNN-caldav.icloud.com. */
export const ICLOUD_HOSTS = ['caldav.icloud.com', /^p\d{1,3}-caldav\.icloud\.com$/];

/**
 * iCloud publishes no lengths for event text. RFC 5545 sets none either; these caps keep a 300-character
 * couple name from ever being the reason a PUT fails (README "Assumptions to verify").
 */
export const EVENT_LIMITS = { summary: 255, description: 8192, location: 255, attendeeName: 255 } as const;

/**
 * The event's UID (and so its resource name) for an idempotency key: a v5-style UUID of SHA-256(key) at
 * our domain. The same key always names the same resource, so a retried PUT with `If-None-Match: *`
 * meets the event the first attempt made (412) instead of creating a second one.
 */
export function eventUid(idempotencyKey: string): string {
  const hex = createHash('sha256').update(idempotencyKey, 'utf8').digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}@tourhub`;
}

/** The resource name inside the calendar collection: the UID with only URL-safe characters. */
export function eventFilename(uid: string): string {
  return `${uid.replace(/[^A-Za-z0-9-]/g, '-')}.ics`;
}

/** A monotonic SEQUENCE for updates (seconds since 2026-01-01), so attendees' calendars apply the newest. */
export function sequenceAt(now: number): number {
  return Math.max(1, Math.floor((now - Date.UTC(2026, 0, 1)) / 1000));
}

/**
 * One VEVENT as an iCalendar object. Times go out in UTC (`DTSTART:…Z`), converted from the local
 * wall-clock time in its zone, so no VTIMEZONE has to be carried. The Apple ID is the organizer: iCloud
 * then sends the invitations itself (implicit scheduling, RFC 6638).
 */
export function toICalendar(input: CalendarEventInput, opts: { uid: string; organizer: string; now: number; sequence: number }): string {
  const calendar = ical({ prodId: { company: 'tourhub', product: 'tourhub', language: 'EN' } });
  const description = input.description !== undefined ? capText(input.description, EVENT_LIMITS.description) : undefined;
  const location = capOptional(input.location, EVENT_LIMITS.location);
  calendar.createEvent({
    id: opts.uid,
    sequence: opts.sequence,
    stamp: new Date(opts.now),
    start: new Date(`${localToUtc(input.start, input.timeZone)}Z`),
    end: new Date(`${localToUtc(input.end, input.timeZone)}Z`),
    summary: capText(input.summary, EVENT_LIMITS.summary),
    ...(description !== undefined ? { description } : {}),
    ...(location !== undefined ? { location } : {}),
    organizer: { name: normalizeEmail(opts.organizer), email: normalizeEmail(opts.organizer) },
    attendees: normalizeAttendees(input.attendees, EVENT_LIMITS.attendeeName).map((a) => ({ email: a.email, ...(a.name ? { name: a.name } : {}), rsvp: true })),
  });
  return calendar.toString();
}
