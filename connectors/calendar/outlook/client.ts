import { sessionToken } from '../../oauth';
import type { CalendarConnector, CalendarEventInput, ChangeChannel, OAuthSession, WatchInput, WriteOptions } from '../../contracts';
import { ConnectorError } from '../../errors';
import type { HttpRequest, VendorHttp } from '../../http';
import { graphEventRecord, graphTimeZone, graphTransactionId, toGraphEvent, toGraphEventPatch, type GraphDeltaEvent, type GraphEvent } from './mapping';

/** The window a delta round covers, fixed by its first request: events from a month ago to a year and a bit ahead. */
const DELTA_PAST_MS = 30 * 86_400_000;
const DELTA_AHEAD_MS = 400 * 86_400_000;

interface GraphDeltaPage {
  value?: GraphDeltaEvent[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

export const PROVIDER = 'outlook-calendar';
export const GRAPH_BASE_URL = 'https://graph.microsoft.com/v1.0';
/** Microsoft Graph's global service; a national cloud would be a deployment's CONNECTOR_BASE_URLS. */
export const GRAPH_HOSTS = ['graph.microsoft.com'];

/** Graph's longest subscription on Outlook events: 10,080 minutes (7 days). */
const GRAPH_MAX_EVENT_SUBSCRIPTION_MS = 10_080 * 60_000;

export interface OutlookCalendarClientOptions {
  oauth: OAuthSession | undefined;
  /** A calendar id from GET /me/calendars; absent means the user's default calendar. */
  calendarId?: string;
  /** What attendees read in the cancellation message. */
  cancellationComment: string;
  http: VendorHttp;
  /** Epoch milliseconds: subscription expiry times are computed from it. */
  now?: () => number;
}

/**
 * Outlook calendars through Microsoft Graph v1.0. Every request asks for immutable ids, so the id we
 * return from createEvent still names the event after Outlook moves it between folders (a cancelled
 * meeting goes to Deleted Items).
 */
export function createOutlookCalendarClient(opts: OutlookCalendarClientOptions): CalendarConnector {
  const session = opts.oauth;
  const now = opts.now ?? Date.now;

  async function call<T>(req: HttpRequest): Promise<T> {
    if (!session) {
      throw new ConnectorError({ code: 'misconfigured', retryable: false, provider: PROVIDER, message: `${PROVIDER} needs an OAuth session` });
    }
    // One client per request, so the 401 hook refreshes exactly the token this request was refused with.
    let used: string | undefined;
    const http = opts.http.client({
      baseUrl: opts.http.baseUrl ?? GRAPH_BASE_URL,
      headers: async () => {
        used = await sessionToken(PROVIDER, () => session.accessToken());
        return { authorization: `Bearer ${used}` };
      },
      onUnauthorized: async () => {
        if (used === undefined) return false;
        const stale = used;
        await sessionToken(PROVIDER, () => session.refresh(stale));
        return true;
      },
    });
    return (await http.request<T>(req)).body;
  }

  const prefer = (timeZone?: string) => ({
    prefer: timeZone === undefined ? 'IdType="ImmutableId"' : `IdType="ImmutableId", outlook.timezone="${timeZone}"`,
  });
  const eventPath = (eventId: string) => `me/events/${encodeURIComponent(eventId)}`;

  function body(build: () => GraphEvent): GraphEvent {
    try {
      return build();
    } catch (err) {
      if (err instanceof RangeError) {
        throw new ConnectorError({ code: 'bad_request', retryable: false, provider: PROVIDER, message: `Cannot send this event to Outlook: ${err.message}`, cause: err });
      }
      throw err;
    }
  }

  function eventId(res: { id?: unknown }): string {
    if (typeof res.id !== 'string' || res.id === '') {
      throw new ConnectorError({ code: 'unexpected_response', retryable: false, provider: PROVIDER, message: `${PROVIDER} answered without an event id` });
    }
    return res.id;
  }

  return {
    async createEvent(input: CalendarEventInput, write: WriteOptions) {
      // Graph answers a repeated POST carrying the same transactionId with the event it already made.
      const json = body(() => toGraphEvent(input, graphTransactionId(write.idempotencyKey)));
      const path = opts.calendarId !== undefined ? `me/calendars/${encodeURIComponent(opts.calendarId)}/events` : 'me/events';
      const created = await call<{ id?: unknown }>({ method: 'POST', path, json, headers: prefer(graphTimeZone(input.timeZone)) });
      return { eventId: eventId(created) };
    },

    async updateEvent(id: string, input: CalendarEventInput) {
      const json = body(() => toGraphEventPatch(input));
      const updated = await call<{ id?: unknown }>({ method: 'PATCH', path: eventPath(id), json, headers: prefer(graphTimeZone(input.timeZone)) });
      return { eventId: typeof updated.id === 'string' && updated.id !== '' ? updated.id : id };
    },

    async cancelEvent(id: string) {
      try {
        await call({ method: 'POST', path: `${eventPath(id)}/cancel`, json: { Comment: opts.cancellationComment }, headers: prefer() });
        return;
      } catch (err) {
        if (!(err instanceof ConnectorError)) throw err;
        if (err.status === 404) return; // already cancelled and purged, or never there
        // Graph refuses `cancel` (400) for an event that is not a meeting the user organises; deleting it
        // removes it from the calendar, which is what cancelling means for us.
        if (err.status !== 400) throw err;
      }
      try {
        await call({ method: 'DELETE', path: eventPath(id), headers: prefer() });
      } catch (err) {
        if (err instanceof ConnectorError && err.status === 404) return;
        throw err;
      }
    },

    /**
     * A calendarView delta round: the first request (no cursor) is a full pass over the window and ends
     * with a deltaLink; sending that back later returns what changed since, deletions as `@removed`.
     * Page tokens and cursors are Graph's own links (absolute URLs, checked against Graph's host like
     * every other call). An expired delta token answers 410: the caller starts a full pass.
     */
    async listChanges(query) {
      const link = query.page ?? query.cursor;
      const base = opts.calendarId !== undefined ? `me/calendars/${encodeURIComponent(opts.calendarId)}/calendarView/delta` : 'me/calendarView/delta';
      const req: HttpRequest = link
        ? { method: 'GET', path: link }
        : {
            method: 'GET',
            path: base,
            query: {
              startDateTime: new Date(query.startedAt - DELTA_PAST_MS).toISOString(),
              endDateTime: new Date(query.startedAt + DELTA_AHEAD_MS).toISOString(),
            },
          };
      req.headers = { prefer: `IdType="ImmutableId", outlook.timezone="UTC", odata.maxpagesize=${Math.min(Math.max(query.pageSize, 1), 1000)}` };
      let page: GraphDeltaPage;
      try {
        page = await call<GraphDeltaPage>(req);
      } catch (err) {
        if (err instanceof ConnectorError && err.status === 410) {
          throw new ConnectorError({ code: 'cursor_expired', retryable: false, provider: PROVIDER, status: 410, message: 'Graph no longer honours the delta link: a full pass is needed', cause: err });
        }
        throw err;
      }
      const records = (page.value ?? []).map(graphEventRecord).filter((r) => r !== undefined);
      if (page['@odata.nextLink']) return { records, nextPage: page['@odata.nextLink'] };
      return { records, ...(page['@odata.deltaLink'] ? { cursor: page['@odata.deltaLink'] } : {}) };
    },

    async ping() {
      const path = opts.calendarId !== undefined ? `me/calendars/${encodeURIComponent(opts.calendarId)}` : 'me/calendars';
      await call({ method: 'GET', path, query: opts.calendarId !== undefined ? { $select: 'id' } : { $top: 1, $select: 'id' }, headers: prefer() });
    },

    // https://learn.microsoft.com/graph/api/subscription-post-subscriptions: Graph validates the
    // notification URL (our route echoes validationToken) before it answers, and caps an Outlook event
    // subscription at 10,080 minutes; PATCH extends one in place.
    async watch(input: WatchInput): Promise<ChangeChannel> {
      const resource = opts.calendarId !== undefined ? `me/calendars/${opts.calendarId}/events` : 'me/events';
      const created = await call<{ id?: unknown; resource?: unknown; expirationDateTime?: unknown }>({
        method: 'POST',
        path: 'subscriptions',
        json: {
          changeType: 'created,updated,deleted',
          notificationUrl: input.address,
          resource,
          expirationDateTime: new Date(now() + Math.min(input.ttlMs, GRAPH_MAX_EVENT_SUBSCRIPTION_MS)).toISOString(),
          clientState: input.token,
        },
      });
      if (typeof created.id !== 'string' || created.id === '') {
        throw new ConnectorError({ code: 'unexpected_response', retryable: false, provider: PROVIDER, message: `${PROVIDER} answered without a subscription id` });
      }
      const expiresAt = Date.parse(String(created.expirationDateTime));
      return { channelId: created.id, resource: typeof created.resource === 'string' ? created.resource : resource, expiresAt: Number.isFinite(expiresAt) ? expiresAt : now() + input.ttlMs };
    },

    async renewWatch(channel: ChangeChannel, ttlMs: number) {
      const wanted = new Date(now() + Math.min(ttlMs, GRAPH_MAX_EVENT_SUBSCRIPTION_MS)).toISOString();
      const renewed = await call<{ expirationDateTime?: unknown }>({ method: 'PATCH', path: `subscriptions/${encodeURIComponent(channel.channelId)}`, json: { expirationDateTime: wanted } });
      const expiresAt = Date.parse(String(renewed.expirationDateTime ?? wanted));
      return { expiresAt: Number.isFinite(expiresAt) ? expiresAt : Date.parse(wanted) };
    },

    async stopWatch(channel: ChangeChannel) {
      try {
        await call({ method: 'DELETE', path: `subscriptions/${encodeURIComponent(channel.channelId)}` });
      } catch (err) {
        if (err instanceof ConnectorError && err.status === 404) return;
        throw err;
      }
    },
  };
}

