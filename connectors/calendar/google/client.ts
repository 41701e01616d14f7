import { sessionToken } from '../../oauth';
import { google, type Common } from 'googleapis';
import type { CalendarConnector, CalendarEventInput, ChangeChannel, OAuthSession, WatchInput, WriteOptions } from '../../contracts';
import { classify, ConnectorError } from '../../errors';
import type { VendorHttp } from '../../http';
import { googleEventId, googleEventRecord, toGoogleEvent } from './mapping';

export const PROVIDER = 'google-calendar';
/** googleapis' rootUrl for Calendar v3. */
export const GOOGLE_CALENDAR_HOSTS = ['www.googleapis.com'];

export type SendUpdates = 'all' | 'externalOnly' | 'none';

export interface GoogleCalendarClientOptions {
  oauth: OAuthSession | undefined;
  calendarId: string;
  sendUpdates: SendUpdates;
  /** Its `baseUrl` (the deployment's) replaces https://www.googleapis.com/; its fetch is the guarded one. */
  http: VendorHttp;
  now: () => number;
}

// Google reports quota exhaustion as 403 or 429 with these reasons; both mean "slow down", not "forbidden".
const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']);

interface GoogleErrorBody {
  error?: { message?: string; errors?: { reason?: string }[] };
}

/** A googleapis/gaxios failure as a ConnectorError: the HTTP status and Retry-After when there was a response. */
export function toConnectorError(err: unknown, now: number): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const response = (err as { response?: { status?: unknown; headers?: unknown; data?: unknown } } | null)?.response;
  if (!response || typeof response.status !== 'number') return classify(PROVIDER, { kind: 'error', error: err }, now);

  const body = (typeof response.data === 'object' && response.data !== null ? response.data : {}) as GoogleErrorBody;
  const message = body.error?.message?.slice(0, 200);
  const headers = headerRecord(response.headers);
  const reasons = (body.error?.errors ?? []).map((e) => e.reason).filter((r): r is string => typeof r === 'string');
  if (response.status === 403 && reasons.some((r) => RATE_LIMIT_REASONS.has(r))) {
    const limited = classify(PROVIDER, { kind: 'http', status: 429, headers }, now);
    return new ConnectorError({
      code: 'rate_limited',
      retryable: true,
      provider: PROVIDER,
      status: 403,
      message: `${PROVIDER} answered 403: ${message ?? reasons.join(', ')}`,
      ...(limited.retryAfterMs !== undefined ? { retryAfterMs: limited.retryAfterMs } : {}),
    });
  }
  return classify(PROVIDER, { kind: 'http', status: response.status, headers, ...(message ? { message } : {}) }, now);
}

function headerRecord(headers: unknown): Record<string, string> {
  if (!headers || typeof headers !== 'object') return {};
  if (typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function') {
    const out: Record<string, string> = {};
    (headers as Headers).forEach((value, key) => {
      out[key] = value;
    });
    return out;
  }
  return Object.fromEntries(Object.entries(headers as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
}


/**
 * Google Calendar v3 through the googleapis SDK. Authorization comes from the integration's OAuth
 * session on every call; a 401 refreshes the token once (collapsed with concurrent refreshers by the
 * session) and retries once. gaxios' own retries are off: retrying is the workflow's job.
 */
export function createGoogleCalendarClient(opts: GoogleCalendarClientOptions): CalendarConnector {
  const { baseUrl } = opts.http;
  const api = google.calendar({
    version: 'v3',
    ...(baseUrl !== undefined ? { rootUrl: baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/` } : {}),
    timeout: opts.http.timeoutMs,
    retry: false,
    // The guarded fetch: allowed hosts and addresses only, no redirects, a capped body. It calls the
    // global fetch late, so test interceptors see the call; it also keeps gaxios from loading node-fetch.
    fetchImplementation: (input, init) => opts.http.fetch(input as string | URL | Request, init as RequestInit),
  });
  const { calendarId, sendUpdates } = opts;

  async function authorized<T>(call: (options: Common.MethodOptions) => Promise<{ data: T }>): Promise<T> {
    const session = opts.oauth;
    if (!session) {
      throw new ConnectorError({ code: 'misconfigured', retryable: false, provider: PROVIDER, message: `${PROVIDER} needs an OAuth session` });
    }
    const attempt = async (token: string) => (await call({ headers: { authorization: `Bearer ${token}` } })).data;
    const token = await sessionToken(PROVIDER, () => session.accessToken());
    try {
      return await attempt(token);
    } catch (err) {
      const error = toConnectorError(err, opts.now());
      if (error.status !== 401) throw error;
    }
    const fresh = await sessionToken(PROVIDER, () => session.refresh(token));
    try {
      return await attempt(fresh);
    } catch (err) {
      throw toConnectorError(err, opts.now());
    }
  }

  return {
    async createEvent(input: CalendarEventInput, write: WriteOptions) {
      const id = googleEventId(write.idempotencyKey);
      try {
        const created = await authorized((o) => api.events.insert({ calendarId, sendUpdates, requestBody: toGoogleEvent(input, id) }, o));
        return { eventId: created.id ?? id };
      } catch (err) {
        // 409: an event with this id exists, so an earlier attempt with this key got through.
        if (!(err instanceof ConnectorError) || err.code !== 'conflict') throw err;
      }
      const existing = await authorized((o) => api.events.get({ calendarId, eventId: id }, o));
      return { eventId: existing.id ?? id };
    },

    async updateEvent(eventId: string, input: CalendarEventInput) {
      const updated = await authorized((o) => api.events.update({ calendarId, eventId, sendUpdates, requestBody: toGoogleEvent(input) }, o));
      return { eventId: updated.id ?? eventId };
    },

    async cancelEvent(eventId: string) {
      try {
        await authorized((o) => api.events.delete({ calendarId, eventId, sendUpdates }, o));
      } catch (err) {
        // Already deleted (410) or never there (404): the event is not on the calendar, which is what we want.
        if (err instanceof ConnectorError && (err.status === 404 || err.status === 410)) return;
        throw err;
      }
    },

    async ping() {
      // events.list is covered by the calendar.events scope we ask for (calendars.get is not).
      await authorized((o) => api.events.list({ calendarId, maxResults: 1 }, o));
    },

    // https://developers.google.com/calendar/api/guides/push: a channel cannot be extended, only
    // replaced, so renewal makes a new one (no renewWatch) and stops the old.
    async watch(input: WatchInput): Promise<ChangeChannel> {
      const channel = await authorized((o) =>
        api.events.watch(
          {
            calendarId,
            requestBody: { id: input.channelId, type: 'web_hook', address: input.address, token: input.token, params: { ttl: String(Math.floor(input.ttlMs / 1000)) } },
          },
          o,
        ),
      );
      const expiresAt = Number(channel.expiration);
      return {
        channelId: channel.id ?? input.channelId,
        ...(channel.resourceId ? { resourceId: channel.resourceId } : {}),
        resource: channel.resourceUri ?? `calendars/${calendarId}/events`,
        expiresAt: Number.isFinite(expiresAt) && expiresAt > 0 ? expiresAt : opts.now() + input.ttlMs,
      };
    },

    async stopWatch(channel: ChangeChannel) {
      try {
        await authorized((o) => api.channels.stop({ requestBody: { id: channel.channelId, ...(channel.resourceId ? { resourceId: channel.resourceId } : {}) } }, o));
      } catch (err) {
        // Expired or already stopped: nothing is watching, which is what stopping wants.
        if (err instanceof ConnectorError && (err.status === 404 || err.status === 410)) return;
        throw err;
      }
    },

    /**
     * Google's incremental sync: a full pass lists every event (deleted ones too) and ends with a
     * nextSyncToken; a later pass sends it back and gets only what changed, deletions as cancelled
     * events. A token Google no longer honours answers 410: the caller starts a full pass.
     */
    async listChanges(query) {
      try {
        const page = await authorized((o) =>
          api.events.list(
            {
              calendarId,
              maxResults: Math.min(Math.max(query.pageSize, 1), 2500),
              showDeleted: true,
              ...(query.cursor !== undefined ? { syncToken: query.cursor } : {}),
              ...(query.page !== undefined ? { pageToken: query.page } : {}),
            },
            o,
          ),
        );
        const records = (page.items ?? []).map(googleEventRecord).filter((r) => r !== undefined);
        if (page.nextPageToken) return { records, nextPage: page.nextPageToken };
        return { records, ...(page.nextSyncToken ? { cursor: page.nextSyncToken } : {}) };
      } catch (err) {
        if (err instanceof ConnectorError && err.status === 410) {
          throw new ConnectorError({ code: 'cursor_expired', retryable: false, provider: PROVIDER, status: 410, message: 'Google no longer honours the sync token: a full pass is needed', cause: err });
        }
        throw err;
      }
    },
  };
}
