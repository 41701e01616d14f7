import crypto from 'node:crypto';
import { basic, hex, json, type FakeRequest, type ProviderSpec, type Reply } from '../support/fake-core';

/**
 * iCloud Calendar over CalDAV (RFC 4791 on WebDAV, RFC 4918), as much of it as the connector uses
 * (connectors/calendar/apple/client.ts, through tsdav): discovery by PROPFIND (the current user's
 * principal at the root, its calendar-home-set, the calendars in the home with Depth 1, each calendar's
 * supported-report-set), PUT of one iCalendar object per resource with the `If-None-Match: *` and
 * `If-Match` preconditions, GET and DELETE. Every request needs Basic auth with the Apple ID and an
 * app-specific password.
 *
 * Identity of a write: the VEVENT's UID (one resource per UID in a calendar, RFC 4791 §4.1). A PUT with
 * `If-None-Match: *` onto an existing resource is answered 412 and changes nothing (`deduplicated`);
 * a PUT without it replaces the object (`reapplied`).
 */

export interface AppleStoredEvent {
  calendar: string;
  href: string;
  uid: string;
  etag: string;
  ics: string;
  /** Unfolded property values of the VEVENT (first occurrence), e.g. SUMMARY, DTSTART. */
  props: Record<string, string>;
  attendees: string[];
}

export interface AppleFakeState {
  /** Calendar name -> its collection path and the component it holds. */
  calendars: Map<string, { displayName: string; component: 'VEVENT' | 'VTODO'; objects: Map<string, AppleStoredEvent> }>;
  events(): AppleStoredEvent[];
}

const DSID = '1234567890';
const HOME = `/${DSID}/calendars/`;
const PRINCIPAL = `/${DSID}/principal/`;
const NAMESPACES = 'xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/" xmlns:ICAL="http://apple.com/ns/ical/"';
const XML = { 'content-type': 'application/xml; charset=utf-8' };

const multistatus = (responses: string[]) => `<?xml version="1.0" encoding="UTF-8"?>\n<multistatus ${NAMESPACES}>${responses.join('')}</multistatus>`;
const response = (href: string, props: string) => `<response><href>${href}</href><propstat><prop>${props}</prop><status>HTTP/1.1 200 OK</status></propstat></response>`;
const davError = (status: number, condition: string, outcome: Reply['outcome']): Reply => json(status, `<?xml version="1.0" encoding="UTF-8"?>\n<error ${NAMESPACES}>${condition}</error>`, outcome, XML);
const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** RFC 5545 §3.1: a line starting with a space or tab continues the previous one. */
export function unfoldIcs(ics: string): string[] {
  return ics.replace(/\r\n[ \t]/g, '').split(/\r\n/).filter((l) => l !== '');
}

/** Each VEVENT property's value (parameters dropped); ATTENDEE lines listed apart. */
function parseVevent(ics: string): { props: Record<string, string>; attendees: string[] } | undefined {
  const lines = unfoldIcs(ics);
  if (lines[0] !== 'BEGIN:VCALENDAR' || lines[lines.length - 1] !== 'END:VCALENDAR') return undefined;
  const start = lines.indexOf('BEGIN:VEVENT');
  const end = lines.indexOf('END:VEVENT');
  if (start < 0 || end < start) return undefined;
  const props: Record<string, string> = {};
  const attendees: string[] = [];
  for (const line of lines.slice(start + 1, end)) {
    const colon = line.search(/:(?=(?:[^"]*"[^"]*")*[^"]*$)/);
    if (colon < 0) return undefined;
    const name = line.slice(0, colon).split(';')[0]!.toUpperCase();
    const value = line.slice(colon + 1);
    if (name === 'ATTENDEE') attendees.push(value);
    else props[name] ??= value;
  }
  return props.UID && props.DTSTART ? { props, attendees } : undefined;
}

function appPassword(): string {
  const letters = () => Array.from(crypto.randomBytes(4), (b) => String.fromCharCode(97 + (b % 26))).join('');
  return [letters(), letters(), letters(), letters()].join('-');
}

export function appleSpec(): ProviderSpec {
  const appleId = `planner.${hex(3)}@icloud.com`;
  const password = appPassword();
  const calendars: AppleFakeState['calendars'] = new Map([
    ['home', { displayName: 'Home', component: 'VEVENT' as const, objects: new Map<string, AppleStoredEvent>() }],
    ['reminders', { displayName: 'Reminders', component: 'VTODO' as const, objects: new Map<string, AppleStoredEvent>() }],
    ['consultations', { displayName: 'Consultations', component: 'VEVENT' as const, objects: new Map<string, AppleStoredEvent>() }],
  ]);
  const state: AppleFakeState = { calendars, events: () => [...calendars.values()].flatMap((c) => [...c.objects.values()]) };
  let ctag = 1;

  const depth = (req: FakeRequest, allowed: string[]): Reply | undefined =>
    allowed.includes(String(req.headers.depth ?? '')) ? undefined : davError(403, '<propfind-finite-depth/>', 'rejected');
  const calendarProps = (name: string) => {
    const c = calendars.get(name)!;
    return (
      `<displayname>${escapeXml(c.displayName)}</displayname><resourcetype><collection/><C:calendar/></resourcetype>` +
      `<C:supported-calendar-component-set><C:comp name="${c.component}"/></C:supported-calendar-component-set><CS:getctag>${ctag}</CS:getctag>`
    );
  };
  const objectAt = (req: FakeRequest) => calendars.get(req.params[1]!)?.objects.get(req.params[2]!);
  const preconditions = (req: FakeRequest, existing: AppleStoredEvent | undefined): Reply | undefined => {
    if (req.headers['if-none-match'] === '*' && existing) return davError(412, '', 'deduplicated');
    const ifMatch = req.headers['if-match'];
    if (ifMatch !== undefined && ifMatch !== existing?.etag) return davError(412, '', 'rejected');
    return undefined;
  };
  const OBJECT = new RegExp(`^/(${DSID})/calendars/([^/]+)/([^/]+\\.ics)$`);

  return {
    id: 'apple-calendar',
    state,
    errorBody: (status) => (status === 404 ? 'Not Found' : 'Service Unavailable'),
    integration: () => ({
      provider: 'apple-calendar',
      category: 'calendar',
      auth: 'api-key',
      credentials: { appleId, appSpecificPassword: password },
      settings: { calendarName: 'Consultations' },
    }),
    baseUrl: (url) => url,
    authorize(req) {
      const [user, pass] = basic(req) ?? [];
      return user === appleId && pass === password ? undefined : json(401, 'Unauthorized', 'unauthorized', { 'www-authenticate': 'Basic realm="iCloud"' });
    },
    routes: [
      {
        method: 'PROPFIND',
        path: /^\/$/,
        kind: 'read',
        handle: (req) => depth(req, ['0']) ?? json(207, multistatus([response('/', `<current-user-principal><href>${PRINCIPAL}</href></current-user-principal>`)]), 'read', XML),
      },
      {
        method: 'PROPFIND',
        path: new RegExp(`^${PRINCIPAL}$`),
        kind: 'read',
        // iCloud names the home on the account's partition host: an absolute URL, here this server's own.
        handle: (req) =>
          depth(req, ['0']) ??
          json(207, multistatus([response(PRINCIPAL, `<C:calendar-home-set><href>http://${req.headers.host}${HOME}</href></C:calendar-home-set>`)]), 'read', XML),
      },
      {
        method: 'PROPFIND',
        path: new RegExp(`^${HOME}$`),
        kind: 'read',
        handle(req) {
          const refused = depth(req, ['0', '1']);
          if (refused) return refused;
          const home = response(HOME, '<resourcetype><collection/></resourcetype>');
          const members = req.headers.depth === '1' ? [...calendars.keys()].map((name) => response(`${HOME}${name}/`, calendarProps(name))) : [];
          return json(207, multistatus([home, ...members]), 'read', XML);
        },
      },
      {
        method: 'PROPFIND',
        path: new RegExp(`^${HOME}([^/]+)/$`),
        kind: 'read',
        handle(req) {
          const refused = depth(req, ['0']);
          if (refused) return refused;
          const name = req.params[0]!;
          if (!calendars.has(name)) return json(404, 'Not Found', 'not_found');
          const reports = ['C:calendar-multiget', 'C:calendar-query', 'sync-collection'].map((r) => `<supported-report><report><${r}/></report></supported-report>`).join('');
          return json(207, multistatus([response(`${HOME}${name}/`, `${calendarProps(name)}<supported-report-set>${reports}</supported-report-set>`)]), 'read', XML);
        },
      },
      {
        method: 'PUT',
        path: OBJECT,
        kind: 'write',
        key: (req) => parseVevent(req.raw)?.props.UID ?? req.path,
        handle(req) {
          const calendar = calendars.get(req.params[1]!);
          if (!calendar) return json(409, 'Conflict', 'rejected');
          if (!String(req.headers['content-type'] ?? '').startsWith('text/calendar')) return davError(415, '<C:supported-calendar-data/>', 'rejected');
          const existing = objectAt(req);
          const failed = preconditions(req, existing);
          if (failed) return failed;
          const parsed = parseVevent(req.raw);
          if (!parsed) return davError(403, '<C:valid-calendar-data/>', 'rejected');
          if (calendar.component !== 'VEVENT') return davError(403, '<C:supported-calendar-component/>', 'rejected');
          const clash = [...calendar.objects.values()].find((o) => o.uid === parsed.props.UID && o.href !== req.path);
          if (clash) return davError(409, `<C:no-uid-conflict><href>${clash.href}</href></C:no-uid-conflict>`, 'rejected');
          const etag = `"${hex(8)}"`;
          calendar.objects.set(req.params[2]!, { calendar: req.params[1]!, href: req.path, uid: parsed.props.UID!, etag, ics: req.raw, props: parsed.props, attendees: parsed.attendees });
          ctag++;
          return existing ? { status: 204, outcome: 'reapplied', headers: { etag } } : { status: 201, outcome: 'applied', headers: { etag } };
        },
      },
      {
        method: 'GET',
        path: OBJECT,
        kind: 'read',
        handle(req) {
          const existing = objectAt(req);
          return existing ? json(200, existing.ics, 'read', { 'content-type': 'text/calendar; charset=utf-8', etag: existing.etag }) : json(404, 'Not Found', 'not_found');
        },
      },
      {
        method: 'DELETE',
        path: OBJECT,
        kind: 'write',
        key: (req) => objectAt(req)?.uid ?? req.path,
        handle(req) {
          const existing = objectAt(req);
          if (!existing) return json(404, 'Not Found', 'not_found');
          const failed = preconditions(req, existing);
          if (failed) return failed;
          calendars.get(req.params[1]!)!.objects.delete(req.params[2]!);
          ctag++;
          return { status: 204, outcome: 'reapplied' };
        },
      },
    ],
  };
}
