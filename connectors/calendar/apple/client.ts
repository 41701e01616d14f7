import { createCalendarObject, deleteCalendarObject, fetchCalendars, fetchHomeUrl, fetchPrincipalUrl, updateCalendarObject, type DAVAccount, type DAVCalendar } from 'tsdav';
import type { CalendarConnector } from '../../contracts';
import { classify, ConnectorError } from '../../errors';
import type { ConnectorContext } from '../../registry-types';
import { eventFilename, eventUid, ICLOUD_ROOT_URL, sequenceAt, toICalendar } from './mapping';

export interface AppleCredentials {
  appleId: string;
  appSpecificPassword: string;
}

export interface AppleSettings {
  /** The calendar's display name; absent: the first calendar that holds events. */
  calendarName?: string | undefined;
}

const PROVIDER = 'apple-calendar';
const WRITE_STATUSES = [200, 201, 204];

/**
 * tsdav's CalDAV requests through the guarded layer: tsdav takes a `fetch` for every request, and ours
 * binds it to iCloud's hosts, the deployment's address rules, no redirects and a timeout. tsdav reads
 * error statuses into plain messages, so the fetch given to it raises a classified ConnectorError for
 * every status the calling step does not expect (401 -> unauthorized, 503 -> retryable, ...).
 */
export function createAppleCalendarClient(ctx: ConnectorContext<AppleCredentials, AppleSettings>): CalendarConnector {
  const rootUrl = ctx.http.baseUrl ? `${ctx.http.baseUrl.replace(/\/$/, '')}/` : ICLOUD_ROOT_URL;
  const headers = { authorization: `Basic ${Buffer.from(`${ctx.credentials.appleId}:${ctx.credentials.appSpecificPassword}`).toString('base64')}` };

  const davFetch = (expected: number[]) =>
    (async (input: string | URL | Request, init?: RequestInit) => {
      const res = await ctx.http.fetch(input, init);
      if (!expected.includes(res.status)) {
        const retryAfter = res.headers.get('retry-after');
        throw classify(PROVIDER, { kind: 'http', status: res.status, ...(retryAfter ? { headers: { 'retry-after': retryAfter } } : {}) }, ctx.now());
      }
      return res;
    }) as typeof fetch;

  /** Discovery (principal, calendar home, calendars) once per built connector: the factory rebuilds it when the integration changes. */
  let calendar: Promise<DAVCalendar> | undefined;
  function resolveCalendar(): Promise<DAVCalendar> {
    calendar ??= discover().catch((err: unknown) => {
      calendar = undefined;
      throw err;
    });
    return calendar;
  }

  async function discover(): Promise<DAVCalendar> {
    const read = davFetch([200, 207]);
    const account: DAVAccount = { accountType: 'caldav', serverUrl: rootUrl, rootUrl };
    account.principalUrl = await fetchPrincipalUrl({ account, headers, fetch: read });
    account.homeUrl = await fetchHomeUrl({ account, headers, fetch: read });
    // iCloud names the home on the account's partition host; calendars are listed relative to it.
    account.rootUrl = new URL(account.homeUrl).origin + '/';
    const calendars = await fetchCalendars({ account, headers, fetch: read });
    const events = calendars.filter((c) => c.components === undefined || c.components.length === 0 || c.components.includes('VEVENT'));
    const wanted = ctx.settings.calendarName?.trim().toLowerCase();
    const found = wanted ? events.find((c) => typeof c.displayName === 'string' && c.displayName.trim().toLowerCase() === wanted) : events[0];
    if (!found) {
      throw new ConnectorError({
        code: 'misconfigured',
        retryable: false,
        provider: PROVIDER,
        message: wanted ? `iCloud has no calendar named "${ctx.settings.calendarName}"` : 'iCloud has no calendar that holds events',
      });
    }
    return found;
  }

  const objectUrl = (cal: DAVCalendar, uid: string) => new URL(eventFilename(uid), cal.url.endsWith('/') ? cal.url : `${cal.url}/`).href;

  return {
    async createEvent(input, opts) {
      const cal = await resolveCalendar();
      const uid = eventUid(opts.idempotencyKey);
      // If-None-Match: * (set by tsdav): 201 creates; 412 means the resource exists, i.e. an earlier
      // attempt with this key already created it. Either way the event is there exactly once.
      await createCalendarObject({
        calendar: cal,
        filename: eventFilename(uid),
        iCalString: toICalendar(input, { uid, organizer: ctx.credentials.appleId, now: ctx.now(), sequence: 0 }),
        headers,
        fetch: davFetch([...WRITE_STATUSES, 412]),
      });
      return { eventId: uid };
    },

    async updateEvent(eventId, input) {
      const cal = await resolveCalendar();
      await updateCalendarObject({
        calendarObject: { url: objectUrl(cal, eventId), data: toICalendar(input, { uid: eventId, organizer: ctx.credentials.appleId, now: ctx.now(), sequence: sequenceAt(ctx.now()) }) },
        headers,
        fetch: davFetch(WRITE_STATUSES),
      });
      return { eventId };
    },

    async cancelEvent(eventId) {
      const cal = await resolveCalendar();
      // DELETE: iCloud tells the attendees. 404 or 410: already gone, which is what cancelling wants.
      await deleteCalendarObject({ calendarObject: { url: objectUrl(cal, eventId), etag: '' }, headers, fetch: davFetch([...WRITE_STATUSES, 404, 410]) });
    },

    // Discovery is the cheapest authenticated read, and it proves the calendar exists.
    async ping() {
      calendar = undefined;
      await resolveCalendar();
    },
  };
}
