import { bearer, hex, json, obj, type ProviderSpec } from '../support/fake-core';

/**
 * Google Calendar v3: client-chosen event ids, 409 on a repeat.
 * Served by the fake server core (test/support/fake-core.ts); started with the others by
 * test/support/fake-providers.ts.
 */
export function googleSpec(): ProviderSpec {
  const accessToken = `ya29.fake-${hex(16)}`;
  const events = new Map<string, Record<string, unknown>>();
  /** The change feed behind sync tokens: each event's last change, in order. */
  const changed = new Map<string, number>();
  let sequence = 0;
  const touch = (id: string) => {
    changed.set(id, ++sequence);
    const e = events.get(id);
    if (e) e.updated = new Date().toISOString();
  };
  const error = (code: number, message: string, reason: string) => ({ error: { code, message, errors: [{ domain: 'global', reason, message }] } });
  const E = '^/calendar/v3/calendars/([^/]+)/events';
  return {
    id: 'google-calendar',
    stores: { events },
    touch: (_name, id) => touch(id),
    errorBody: (status) => error(status, status === 404 ? 'Not Found' : 'The service is currently unavailable.', status === 404 ? 'notFound' : 'backendError'),
    integration: () => ({
      provider: 'google-calendar',
      category: 'calendar',
      auth: 'oauth2',
      credentials: { accessToken, refreshToken: `1//fake-${hex(8)}`, expiresAt: Date.now() + 365 * 86_400_000, scope: 'https://www.googleapis.com/auth/calendar.events' },
      settings: { calendarId: 'primary', sendUpdates: 'none' },
    }),
    baseUrl: (url) => url,
    authorize: (req) =>
      bearer(req) === accessToken
        ? undefined
        : json(401, { error: { code: 401, message: 'Request had invalid authentication credentials.', errors: [{ reason: 'authError' }], status: 'UNAUTHENTICATED' } }, 'unauthorized'),
    routes: [
      {
        method: 'POST',
        path: new RegExp(`${E}$`),
        kind: 'write',
        key: (req) => obj(req.body).id as string | undefined,
        handle(req, key) {
          const body = obj(req.body);
          if (key !== undefined && !/^[a-v0-9]{5,1024}$/.test(key)) return json(400, error(400, 'Invalid resource id value.', 'invalid'), 'rejected');
          if (key !== undefined && events.has(key)) return json(409, error(409, 'The requested identifier already exists.', 'duplicate'), 'deduplicated');
          const id = key ?? hex(13);
          const now = new Date().toISOString();
          const event = {
            kind: 'calendar#event',
            etag: `"${Date.now()}"`,
            id,
            status: 'confirmed',
            htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(id).toString('base64url')}`,
            created: now,
            updated: now,
            ...body,
            attendees: Array.isArray(body.attendees) ? body.attendees.map((a) => ({ ...obj(a), responseStatus: 'needsAction' })) : [],
            creator: { email: 'planner@example.com', self: true },
            organizer: { email: 'planner@example.com', self: true },
            iCalUID: `${id}@google.com`,
            sequence: 0,
            reminders: { useDefault: true },
            eventType: 'default',
            calendarId: req.params[0],
          };
          events.set(id, event);
          touch(id);
          return json(200, event, 'applied');
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${E}/([^/]+)$`),
        kind: 'read',
        handle(req) {
          const event = events.get(req.params[1]!);
          return event ? json(200, event, 'read') : json(404, error(404, 'Not Found', 'notFound'), 'not_found');
        },
      },
      {
        method: 'PUT',
        path: new RegExp(`${E}/([^/]+)$`),
        kind: 'write',
        key: (req) => req.params[1],
        handle(req) {
          const existing = events.get(req.params[1]!);
          if (!existing) return json(404, error(404, 'Not Found', 'notFound'), 'not_found');
          const updated = { ...existing, ...obj(req.body), id: existing.id, updated: new Date().toISOString(), sequence: Number(existing.sequence) + 1 };
          events.set(existing.id as string, updated);
          touch(existing.id as string);
          return json(200, updated, 'reapplied');
        },
      },
      {
        method: 'DELETE',
        path: new RegExp(`${E}/([^/]+)$`),
        kind: 'write',
        key: (req) => req.params[1],
        handle(req) {
          const existing = events.get(req.params[1]!);
          if (!existing) return json(404, error(404, 'Not Found', 'notFound'), 'not_found');
          if (existing.status === 'cancelled') return json(410, error(410, 'Resource has been deleted', 'deleted'), 'deduplicated');
          existing.status = 'cancelled';
          touch(existing.id as string);
          return { status: 204, outcome: 'reapplied' };
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${E}$`),
        kind: 'read',
        handle(req) {
          // A full sync without syncToken, or what changed since it; pageToken is an offset here.
          const token = req.query.get('syncToken');
          if (token !== null && !/^s\d+$/.test(token)) return json(410, error(410, 'Sync token is no longer valid, a full sync is required.', 'fullSyncRequired'), 'read');
          const since = token === null ? 0 : Number(token.slice(1));
          const showDeleted = req.query.get('showDeleted') === 'true' || token !== null;
          const all = [...events.values()]
            .filter((e) => changed.get(e.id as string)! > since && (showDeleted || e.status !== 'cancelled'))
            .sort((a, b) => changed.get(a.id as string)! - changed.get(b.id as string)!)
            .map((e) => (e.status === 'cancelled' && token !== null ? { kind: 'calendar#event', id: e.id, status: 'cancelled' } : e));
          const max = Math.min(Math.max(Number(req.query.get('maxResults') ?? 250) || 250, 1), 2500);
          const offset = Number(req.query.get('pageToken') ?? 0) || 0;
          const items = all.slice(offset, offset + max);
          const more = offset + max < all.length;
          return json(200, { kind: 'calendar#events', summary: 'primary', items, ...(more ? { nextPageToken: String(offset + max) } : { nextSyncToken: `s${sequence}` }) }, 'read');
        },
      },
    ],
  };
}
