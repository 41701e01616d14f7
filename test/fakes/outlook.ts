import crypto from 'node:crypto';
import { bearer, hex, json, obj, type FakeRequest, type ProviderSpec, type Reply } from '../support/fake-core';

/**
 * Outlook calendars through Microsoft Graph v1.0: transactionId dedupes a repeated POST.
 * Served by the fake server core (test/support/fake-core.ts); started with the others by
 * test/support/fake-providers.ts.
 */
export function outlookSpec(): ProviderSpec {
  const accessToken = `eyJ0eXAiOiJKV1QiLCJub25jZSI6ImZha2UifQ.fake-${hex(16)}`;
  const events = new Map<string, Record<string, unknown>>();
  const byTransaction = new Map<string, string>();
  /** The change feed behind delta links: each event's last change (deleted ones too), in order. */
  const changed = new Map<string, number>();
  let sequence = 0;
  let self = '';
  const touch = (id: string) => {
    changed.set(id, ++sequence);
    const e = events.get(id);
    if (e) e.lastModifiedDateTime = new Date().toISOString();
  };
  const error = (code: string, message: string) => ({ error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': crypto.randomUUID() } } });
  const V = '^/v1.0/me';
  const create = (req: FakeRequest, key: string | undefined): Reply => {
    const existingId = key !== undefined ? byTransaction.get(key) : undefined;
    if (existingId) return json(201, events.get(existingId), 'deduplicated');
    const body = obj(req.body);
    const id = `AAMkAD${Buffer.from(crypto.randomBytes(60)).toString('base64url')}`;
    const now = new Date().toISOString();
    const event = {
      '@odata.context': "https://graph.microsoft.com/v1.0/$metadata#users('me')/events/$entity",
      '@odata.etag': `W/"${hex(8)}"`,
      id,
      createdDateTime: now,
      lastModifiedDateTime: now,
      iCalUId: `040000008200E00074C5B7101A82E008${hex(16).toUpperCase()}`,
      isCancelled: false,
      webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(id)}&exvsurl=1&path=/calendar/item`,
      ...body,
      attendees: Array.isArray(body.attendees) ? body.attendees.map((a) => ({ ...obj(a), status: { response: 'none', time: '0001-01-01T00:00:00Z' } })) : [],
      organizer: { emailAddress: { name: 'Planner', address: 'planner@example.com' } },
    };
    events.set(id, event);
    touch(id);
    if (key !== undefined) byTransaction.set(key, id);
    return json(201, event, 'applied');
  };
  return {
    id: 'outlook-calendar',
    stores: { events },
    touch: (_name, id) => touch(id),
    started: (url) => {
      self = url;
    },
    errorBody: (status) => error(status === 404 ? 'ErrorItemNotFound' : 'ServiceNotAvailable', status === 404 ? 'The specified object was not found in the store.' : 'The service is temporarily unavailable.'),
    integration: () => ({
      provider: 'outlook-calendar',
      category: 'calendar',
      auth: 'oauth2',
      credentials: { accessToken, refreshToken: `0.fake-${hex(8)}`, expiresAt: Date.now() + 365 * 86_400_000 },
      settings: {},
    }),
    baseUrl: (url) => `${url}/v1.0`,
    authorize: (req) => (bearer(req) === accessToken ? undefined : json(401, error('InvalidAuthenticationToken', 'Access token validation failure.'), 'unauthorized')),
    routes: [
      { method: 'POST', path: new RegExp(`${V}/events$`), kind: 'write', key: (req) => obj(req.body).transactionId as string | undefined, handle: create },
      { method: 'POST', path: new RegExp(`${V}/calendars/([^/]+)/events$`), kind: 'write', key: (req) => obj(req.body).transactionId as string | undefined, handle: create },
      {
        method: 'PATCH',
        path: new RegExp(`${V}/events/([^/]+)$`),
        kind: 'write',
        key: (req) => events.get(req.params[0]!)?.transactionId as string | undefined,
        handle(req) {
          const existing = events.get(req.params[0]!);
          if (!existing) return json(404, error('ErrorItemNotFound', 'The specified object was not found in the store.'), 'not_found');
          Object.assign(existing, obj(req.body));
          touch(req.params[0]!);
          return json(200, existing, 'reapplied');
        },
      },
      {
        method: 'POST',
        path: new RegExp(`${V}/events/([^/]+)/cancel$`),
        kind: 'write',
        key: (req) => events.get(req.params[0]!)?.transactionId as string | undefined,
        handle(req) {
          const existing = events.get(req.params[0]!);
          if (!existing) return json(404, error('ErrorItemNotFound', 'The specified object was not found in the store.'), 'not_found');
          existing.isCancelled = true;
          touch(req.params[0]!);
          return { status: 202, outcome: 'reapplied' };
        },
      },
      {
        method: 'DELETE',
        path: new RegExp(`${V}/events/([^/]+)$`),
        kind: 'write',
        key: (req) => events.get(req.params[0]!)?.transactionId as string | undefined,
        handle(req) {
          if (!events.delete(req.params[0]!)) return json(404, error('ErrorItemNotFound', 'The specified object was not found in the store.'), 'not_found');
          touch(req.params[0]!);
          return { status: 204, outcome: 'reapplied' };
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${V}(?:/calendars/[^/]+)?/calendarView/delta$`),
        kind: 'read',
        handle(req) {
          // A round: startDateTime/endDateTime first, then $skiptoken pages, ending with a $deltatoken link.
          const skip = req.query.get('$skiptoken');
          const delta = req.query.get('$deltatoken');
          if (delta !== null && !/^\d+$/.test(delta)) return json(410, error('SyncStateNotFound', 'The sync state is not found.'), 'read');
          const [offset, since, upto] = skip ? skip.split('_').map(Number) as [number, number, number] : [0, delta === null ? 0 : Number(delta), sequence];
          const size = Number(/odata\.maxpagesize=(\d+)/.exec(String(req.headers.prefer ?? ''))?.[1] ?? 100);
          const ids = [...changed.entries()].filter(([, n]) => n > since && n <= upto).sort((a, b) => a[1] - b[1]).map(([id]) => id);
          const value = ids.slice(offset, offset + size).map((id) => events.get(id) ?? { id, '@removed': { reason: 'deleted' } });
          const link = `${self}/v1.0/me/calendarView/delta`;
          const more = offset + size < ids.length;
          return json(200, { value, ...(more ? { '@odata.nextLink': `${link}?$skiptoken=${offset + size}_${since}_${upto}` } : { '@odata.deltaLink': `${link}?$deltatoken=${upto}` }) }, 'read');
        },
      },
      { method: 'GET', path: new RegExp(`${V}/calendars$`), kind: 'read', handle: () => json(200, { value: [{ id: 'AAMkADcalendar' }] }, 'read') },
      { method: 'GET', path: new RegExp(`${V}/calendars/([^/]+)$`), kind: 'read', handle: (req) => json(200, { id: req.params[0] }, 'read') },
    ],
  };
}
