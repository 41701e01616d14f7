import { createHash } from 'node:crypto';
import type { SyncFields } from '../../../domain/conflict';
import type { CalendarEventInput, RemoteRecord } from '../../contracts';
import { capOptional, capText, normalizeAttendees } from '../../normalize';

/**
 * Exchange stores a subject of at most 255 characters (the MAPI subject property Outlook shows); Graph's
 * event reference (https://learn.microsoft.com/graph/api/resources/event) states no limit of its own,
 * so the subject, location and attendee names are capped there. README "Assumptions to verify".
 */
export const EVENT_LIMITS = { subject: 255, location: 255, attendeeName: 255 } as const;

/** Fixed namespace for our name-based (RFC 4122 version 5) transaction ids. */
const TRANSACTION_NAMESPACE = 'c868a200-250c-4ac2-b133-2230e5b9f539';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** RFC 4122 §4.3 name-based UUID (SHA-1, version 5), lowercase. */
export function uuidV5(name: string, namespace: string): string {
  const hash = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Graph's `transactionId` for an idempotency key. Graph documents it only as "a custom identifier" and
 * its examples use a GUID, so we send a GUID: a version-5 UUID of the key, the same on every retry.
 */
export function graphTransactionId(idempotencyKey: string): string {
  return uuidV5(idempotencyKey, TRANSACTION_NAMESPACE);
}

/**
 * IANA names Graph accepts in dateTimeTimeZone.timeZone besides Windows zone names
 * (https://learn.microsoft.com/graph/api/resources/datetimetimezone). Entries the docs list with an
 * alternative spelling in parentheses (Kyiv/Kiev, Tashkent, Almaty, Yangon/Rangoon) are left out.
 */
export const GRAPH_IANA_ZONES: ReadonlySet<string> = new Set([
  'Etc/GMT+12', 'Etc/GMT+11', 'Pacific/Honolulu', 'America/Anchorage', 'America/Santa_Isabel', 'America/Los_Angeles',
  'America/Phoenix', 'America/Chihuahua', 'America/Denver', 'America/Guatemala', 'America/Chicago', 'America/Mexico_City',
  'America/Regina', 'America/Bogota', 'America/New_York', 'America/Indiana/Indianapolis', 'America/Caracas', 'America/Asuncion',
  'America/Halifax', 'America/Cuiaba', 'America/La_Paz', 'America/Santiago', 'America/St_Johns', 'America/Sao_Paulo',
  'America/Argentina/Buenos_Aires', 'America/Cayenne', 'America/Godthab', 'America/Montevideo', 'America/Bahia', 'Etc/GMT+2',
  'Atlantic/Azores', 'Atlantic/Cape_Verde', 'Africa/Casablanca', 'Etc/GMT', 'Europe/London', 'Atlantic/Reykjavik',
  'Europe/Berlin', 'Europe/Budapest', 'Europe/Paris', 'Europe/Warsaw', 'Africa/Lagos', 'Africa/Windhoek', 'Europe/Bucharest',
  'Asia/Beirut', 'Africa/Cairo', 'Asia/Damascus', 'Africa/Johannesburg', 'Europe/Istanbul', 'Asia/Jerusalem', 'Asia/Amman',
  'Asia/Baghdad', 'Europe/Kaliningrad', 'Asia/Riyadh', 'Africa/Nairobi', 'Asia/Tehran', 'Asia/Dubai', 'Asia/Baku',
  'Europe/Moscow', 'Indian/Mauritius', 'Asia/Tbilisi', 'Asia/Yerevan', 'Asia/Kabul', 'Asia/Karachi', 'Asia/Kolkata',
  'Asia/Colombo', 'Asia/Kathmandu', 'Asia/Dhaka', 'Asia/Yekaterinburg', 'Asia/Bangkok', 'Asia/Novosibirsk', 'Asia/Shanghai',
  'Asia/Krasnoyarsk', 'Asia/Singapore', 'Australia/Perth', 'Asia/Taipei', 'Asia/Ulaanbaatar', 'Asia/Irkutsk', 'Asia/Tokyo',
  'Asia/Seoul', 'Australia/Adelaide', 'Australia/Darwin', 'Australia/Brisbane', 'Australia/Sydney', 'Pacific/Port_Moresby',
  'Australia/Hobart', 'Asia/Yakutsk', 'Pacific/Guadalcanal', 'Asia/Vladivostok', 'Pacific/Auckland', 'Etc/GMT-12',
  'Pacific/Fiji', 'Asia/Magadan', 'Pacific/Tongatapu', 'Pacific/Apia', 'Pacific/Kiritimati', 'UTC',
]);

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** The zone's offset from UTC at instant `utcMs`, in milliseconds (Intl, so the full tz database). */
function zoneOffsetMs(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - utcMs;
}

/**
 * A local wall-clock time in an IANA zone as UTC wall-clock time (`YYYY-MM-DDTHH:mm:ss`). A time that
 * does not exist locally (inside a spring-forward gap) resolves to an instant next to the gap. Throws
 * RangeError for an unknown zone or a malformed time.
 */
export function localToUtc(local: string, timeZone: string): string {
  const m = LOCAL.exec(local);
  if (!m) throw new RangeError(`not a local date-time: ${local}`);
  const asUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  const first = asUtc - zoneOffsetMs(asUtc, timeZone);
  const utc = asUtc - zoneOffsetMs(first, timeZone);
  return new Date(utc).toISOString().slice(0, 19);
}

export interface GraphDateTime {
  dateTime: string;
  timeZone: string;
}

/**
 * Graph's dateTimeTimeZone for our local time: the IANA zone as-is when Graph accepts it, otherwise the
 * same instant in UTC (Outlook shows it in each attendee's own zone either way).
 */
export function toGraphDateTime(local: string, timeZone: string): GraphDateTime {
  if (GRAPH_IANA_ZONES.has(timeZone)) {
    localToUtc(local, timeZone); // validates the time
    return { dateTime: local, timeZone };
  }
  return { dateTime: localToUtc(local, timeZone), timeZone: 'UTC' };
}

/** The zone our start/end are sent in, for `Prefer: outlook.timezone` so responses come back in it too. */
export function graphTimeZone(timeZone: string): string {
  return GRAPH_IANA_ZONES.has(timeZone) ? timeZone : 'UTC';
}

export interface GraphEvent {
  subject: string;
  body: { contentType: 'text'; content: string };
  start: GraphDateTime;
  end: GraphDateTime;
  location?: { displayName: string };
  attendees: { emailAddress: { address: string; name?: string }; type: 'required' }[];
  isReminderOn?: boolean;
  reminderMinutesBeforeStart?: number;
  transactionId?: string;
}

/**
 * Graph keeps one reminder per event, shown to the organiser (`reminderMinutesBeforeStart`); it has no
 * email reminder. Of ours, the popup is the one Outlook can show, so it wins; else the soonest.
 */
export function graphReminder(reminders: CalendarEventInput['reminders']): Pick<GraphEvent, 'isReminderOn' | 'reminderMinutesBeforeStart'> {
  if (reminders === undefined) return {};
  if (reminders.length === 0) return { isReminderOn: false };
  const popup = reminders.find((r) => r.method === 'popup');
  const minutes = popup ? popup.minutes : Math.min(...reminders.map((r) => r.minutes));
  return { isReminderOn: true, reminderMinutesBeforeStart: Math.max(0, Math.round(minutes)) };
}

/** Our event as a Graph event. `transactionId` is set on create only (Graph refuses to change it). */
export function toGraphEvent(input: CalendarEventInput, transactionId?: string): GraphEvent {
  return {
    subject: capText(input.summary, EVENT_LIMITS.subject),
    body: { contentType: 'text', content: input.description ?? '' },
    start: toGraphDateTime(input.start, input.timeZone),
    end: toGraphDateTime(input.end, input.timeZone),
    ...(capOptional(input.location, EVENT_LIMITS.location) !== undefined ? { location: { displayName: capOptional(input.location, EVENT_LIMITS.location)! } } : {}),
    attendees: normalizeAttendees(input.attendees, EVENT_LIMITS.attendeeName).map((a) => ({
      emailAddress: { address: a.email, ...(a.name !== undefined ? { name: a.name } : {}) },
      type: 'required' as const,
    })),
    ...graphReminder(input.reminders),
    ...(transactionId !== undefined ? { transactionId } : {}),
  };
}

/** PATCH body for an update: the same fields, with the location cleared when the input has none. */
export function toGraphEventPatch(input: CalendarEventInput): GraphEvent {
  return { ...toGraphEvent(input), location: { displayName: capOptional(input.location, EVENT_LIMITS.location) ?? '' } };
}

/** Our values as Outlook keeps them (two-way sync compares these): the subject cut as toGraphEvent cuts it. */
export function graphStoredFields(fields: SyncFields): SyncFields {
  return typeof fields.summary === 'string' ? { ...fields, summary: capText(fields.summary, EVENT_LIMITS.subject) } : fields;
}

/** An event of a calendarView delta page: a changed event, or only its id and `@removed`. */
export interface GraphDeltaEvent {
  id?: string;
  subject?: string | null;
  start?: { dateTime?: string; timeZone?: string } | null;
  end?: { dateTime?: string; timeZone?: string } | null;
  isCancelled?: boolean;
  lastModifiedDateTime?: string | null;
  '@removed'?: { reason?: string };
}

/**
 * Graph's dateTime in the zone it names as UTC `YYYY-MM-DDTHH:mm:ssZ`. We ask for UTC (`Prefer:
 * outlook.timezone="UTC"`); a zone Graph names by IANA is converted, anything else is left out (null).
 */
export function graphUtc(value: { dateTime?: string; timeZone?: string } | null | undefined): string | null {
  if (!value?.dateTime) return null;
  const local = value.dateTime.slice(0, 19);
  const zone = value.timeZone ?? 'UTC';
  if (zone === 'UTC' || zone === 'Etc/GMT') return `${local}Z`;
  try {
    return `${localToUtc(local, zone)}Z`;
  } catch {
    return null;
  }
}

/** A delta row as two-way sync compares it, keyed by the event's (immutable) id. */
export function graphEventRecord(event: GraphDeltaEvent): RemoteRecord | undefined {
  if (!event.id) return undefined;
  const updatedAt = event.lastModifiedDateTime ?? null;
  if (event['@removed'] || event.isCancelled) return { key: event.id, remoteId: event.id, fields: { cancelled: true }, updatedAt };
  return {
    key: event.id,
    remoteId: event.id,
    fields: { start: graphUtc(event.start), end: graphUtc(event.end), summary: event.subject ?? null, cancelled: false },
    updatedAt,
  };
}
