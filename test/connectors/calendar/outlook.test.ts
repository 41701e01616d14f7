import { connectionReset, slowReply, useNock } from '../../support/nock';
import nock from 'nock';
import { outlookCalendar } from '../../../connectors/calendar/outlook';
import { graphTransactionId, localToUtc, toGraphDateTime, toGraphEvent, toGraphEventPatch, uuidV5 } from '../../../connectors/calendar/outlook/mapping';
import type { OAuthSession } from '../../../connectors/contracts';
import { ConnectorError } from '../../../connectors/errors';
import { context, staticOAuth } from '../../support/connectors';
import { caught, consultation } from './helpers';

const GRAPH = 'https://graph.microsoft.com';
const KEY = 'tour-event-7f3a:calendar:outlook-calendar';
const TX = graphTransactionId(KEY);
const EVENT_ID = 'AAMkAGI2TAAA=';
const PREFER_NY = 'IdType="ImmutableId", outlook.timezone="America/New_York"';
const creds = { accessToken: 'access-token-1', refreshToken: 'refresh-1' };

function connector(oauth: OAuthSession | null = staticOAuth(), settings: Record<string, unknown> = {}, timeoutMs = 2000, baseUrl?: string) {
  return outlookCalendar.create(context(outlookCalendar, creds, outlookCalendar.settingsSchema.parse(settings), { ...(oauth ? { oauth } : {}), timeoutMs, ...(baseUrl ? { baseUrl } : {}) }));
}

const expectedBody = {
  subject: 'Follow-up consultation: Ada & Grace',
  body: { contentType: 'text', content: 'Booked automatically when the venue tour was completed.' },
  start: { dateTime: '2026-11-30T14:00:00', timeZone: 'America/New_York' },
  end: { dateTime: '2026-11-30T15:00:00', timeZone: 'America/New_York' },
  location: { displayName: 'Rosewood Barn, 12 Mill Lane' },
  attendees: [
    { emailAddress: { address: 'ada@example.com', name: 'Ada Lovelace' }, type: 'required' },
    { emailAddress: { address: 'grace@example.com' }, type: 'required' },
  ],
  transactionId: TX,
};

useNock();

describe('outlook calendar mapping', () => {
  it('derives an RFC 4122 version-5 GUID from the key: the same key gives the same transactionId', () => {
    // Python's uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org') is the well-known vector.
    expect(uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
    expect(TX).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(graphTransactionId(KEY)).toBe(TX);
    expect(graphTransactionId(`${KEY}:2`)).not.toBe(TX);
  });

  it('keeps IANA zones Graph accepts and converts the others to the same instant in UTC', () => {
    expect(toGraphDateTime('2026-11-30T14:00:00', 'America/New_York')).toEqual({ dateTime: '2026-11-30T14:00:00', timeZone: 'America/New_York' });
    // Toronto is not in Graph's list: 14:00 EST is 19:00 UTC; in July (EDT) it is 18:00 UTC.
    expect(toGraphDateTime('2026-11-30T14:00:00', 'America/Toronto')).toEqual({ dateTime: '2026-11-30T19:00:00', timeZone: 'UTC' });
    expect(localToUtc('2026-07-01T14:00:00', 'America/Toronto')).toBe('2026-07-01T18:00:00');
    expect(localToUtc('2026-03-29T14:00', 'Europe/Dublin')).toBe('2026-03-29T13:00:00');
    expect(() => toGraphDateTime('2026-11-30T14:00:00', 'Mars/Olympus_Mons')).toThrow(RangeError);
  });

  it('maps an event with a transactionId on create and a cleared location on update', () => {
    expect(toGraphEvent(consultation, TX)).toEqual(expectedBody);
    const { transactionId: _tx, ...patch } = expectedBody;
    expect(toGraphEventPatch(consultation)).toEqual(patch);
    expect(toGraphEventPatch({ ...consultation, location: undefined }).location).toEqual({ displayName: '' });
  });

  it('rejects unknown settings and credentials', () => {
    expect(outlookCalendar.settingsSchema.parse({})).toEqual({ cancellationComment: 'This appointment has been cancelled.' });
    expect(() => outlookCalendar.settingsSchema.parse({ calendar: 'x' })).toThrow();
    expect(() => outlookCalendar.credentialsSchema.parse({ ...creds, password: 'x' })).toThrow();
  });
});

describe('outlook calendar connector', () => {
  it('creates the event on the default calendar with the transactionId derived from the key', async () => {
    const scope = nock(GRAPH, {
      reqheaders: { authorization: 'Bearer access-token-1', 'content-type': 'application/json', prefer: PREFER_NY },
    })
      .post('/v1.0/me/events', expectedBody)
      .reply(201, { id: EVENT_ID, transactionId: TX });
    await expect(connector().createEvent(consultation, { idempotencyKey: KEY })).resolves.toEqual({ eventId: EVENT_ID });
    expect(scope.isDone()).toBe(true);
  });

  it('sends the same transactionId on a retry and returns the event Graph already made', async () => {
    const scope = nock(GRAPH).post('/v1.0/me/events', expectedBody).twice().reply(201, { id: EVENT_ID, transactionId: TX });
    const c = connector();
    const first = await c.createEvent(consultation, { idempotencyKey: KEY });
    const retry = await c.createEvent(consultation, { idempotencyKey: KEY });
    expect(retry).toEqual(first);
    expect(scope.isDone()).toBe(true);
  });

  it('creates on the configured calendar and base URL, converting a zone Graph lacks to UTC', async () => {
    const scope = nock('http://127.0.0.1:8089', { reqheaders: { prefer: 'IdType="ImmutableId", outlook.timezone="UTC"' } })
      .post('/graph/me/calendars/AAMkCal%3D%3D/events', (body: { start: unknown; end: unknown; transactionId: string }) =>
        JSON.stringify([body.start, body.end, body.transactionId]) ===
        JSON.stringify([{ dateTime: '2026-11-30T19:00:00', timeZone: 'UTC' }, { dateTime: '2026-11-30T20:00:00', timeZone: 'UTC' }, TX]))
      .reply(201, { id: EVENT_ID });
    const c = connector(staticOAuth(), { calendarId: 'AAMkCal==' }, 2000, 'http://127.0.0.1:8089/graph');
    await expect(c.createEvent({ ...consultation, timeZone: 'America/Toronto' }, { idempotencyKey: KEY })).resolves.toEqual({ eventId: EVENT_ID });
    expect(scope.isDone()).toBe(true);
  });

  it('updates with PATCH, without a transactionId', async () => {
    const { transactionId: _tx, ...patch } = expectedBody;
    const scope = nock(GRAPH, { reqheaders: { authorization: 'Bearer access-token-1', 'content-type': 'application/json', prefer: PREFER_NY } })
      .patch(`/v1.0/me/events/${encodeURIComponent(EVENT_ID)}`, patch)
      .reply(200, { id: EVENT_ID });
    await expect(connector().updateEvent(EVENT_ID, consultation, { idempotencyKey: `${KEY}:update` })).resolves.toEqual({ eventId: EVENT_ID });
    expect(scope.isDone()).toBe(true);
  });

  it('cancels with POST /cancel and the configured comment', async () => {
    const scope = nock(GRAPH, { reqheaders: { authorization: 'Bearer access-token-1', 'content-type': 'application/json', prefer: 'IdType="ImmutableId"' } })
      .post(`/v1.0/me/events/${encodeURIComponent(EVENT_ID)}/cancel`, { Comment: 'The consultation is off.' })
      .reply(202);
    await expect(connector(staticOAuth(), { cancellationComment: 'The consultation is off.' }).cancelEvent(EVENT_ID, { idempotencyKey: `${KEY}:cancel` })).resolves.toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it('treats 404 on cancel as already cancelled', async () => {
    const scope = nock(GRAPH)
      .post(`/v1.0/me/events/${encodeURIComponent(EVENT_ID)}/cancel`)
      .reply(404, { error: { code: 'ErrorItemNotFound', message: 'The specified object was not found in the store.' } });
    await expect(connector().cancelEvent(EVENT_ID, { idempotencyKey: `${KEY}:cancel` })).resolves.toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it('deletes the event when Graph refuses cancel because it is not a meeting the user organises', async () => {
    const scope = nock(GRAPH)
      .post(`/v1.0/me/events/${encodeURIComponent(EVENT_ID)}/cancel`)
      .reply(400, { error: { code: 'ErrorAccessDenied', message: "Your request can't be completed. You need to be an organizer to cancel a meeting." } })
      .delete(`/v1.0/me/events/${encodeURIComponent(EVENT_ID)}`)
      .matchHeader('authorization', 'Bearer access-token-1')
      .reply(204);
    await expect(connector().cancelEvent(EVENT_ID, { idempotencyKey: `${KEY}:cancel` })).resolves.toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it('pings by listing one calendar', async () => {
    const scope = nock(GRAPH, { reqheaders: { authorization: 'Bearer access-token-1' } })
      .get('/v1.0/me/calendars')
      .query({ $top: '1', $select: 'id' })
      .reply(200, { value: [{ id: 'AAMkCal==' }] });
    await expect(connector().ping()).resolves.toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it('refreshes the token exactly once after a 401 and retries with the new token', async () => {
    const oauth = staticOAuth();
    const scope = nock(GRAPH)
      .post('/v1.0/me/events')
      .matchHeader('authorization', 'Bearer access-token-1')
      .reply(401, { error: { code: 'InvalidAuthenticationToken', message: 'Access token has expired or is not yet valid.' } })
      .post('/v1.0/me/events', expectedBody)
      .matchHeader('authorization', 'Bearer access-token-2')
      .reply(201, { id: EVENT_ID });
    await expect(connector(oauth).createEvent(consultation, { idempotencyKey: KEY })).resolves.toEqual({ eventId: EVENT_ID });
    expect(oauth.refreshes).toBe(1);
    expect(scope.isDone()).toBe(true);
  });

  it('gives up with a non-retryable unauthorized error when the refreshed token is refused too', async () => {
    const oauth = staticOAuth();
    const scope = nock(GRAPH).post('/v1.0/me/events').twice().reply(401, { error: { code: 'InvalidAuthenticationToken', message: 'expired' } });
    const err = await caught(() => connector(oauth).createEvent(consultation, { idempotencyKey: KEY }));
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ code: 'unauthorized', retryable: false, status: 401, provider: 'outlook-calendar' });
    expect(oauth.refreshes).toBe(1);
    expect(scope.isDone()).toBe(true);
  });

  it('reports 429 as rate_limited, retryable, with Retry-After in milliseconds', async () => {
    const scope = nock(GRAPH)
      .post('/v1.0/me/events')
      .reply(429, { error: { code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' } }, { 'Retry-After': '12' });
    const err = await caught(() => connector().createEvent(consultation, { idempotencyKey: KEY }));
    expect(err).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 12000, status: 429 });
    expect(scope.isDone()).toBe(true);
  });

  it('reports 500 as retryable', async () => {
    const scope = nock(GRAPH).patch(`/v1.0/me/events/${encodeURIComponent(EVENT_ID)}`).reply(500, { error: { code: 'generalException', message: 'boom' } });
    const err = await caught(() => connector().updateEvent(EVENT_ID, consultation, { idempotencyKey: KEY }));
    expect(err).toMatchObject({ code: 'provider_unavailable', retryable: true, status: 500 });
    expect(scope.isDone()).toBe(true);
  });

  it('reports a reset connection as a retryable network error', async () => {
    const scope = nock(GRAPH).post('/v1.0/me/events').replyWithError(connectionReset());
    const err = await caught(() => connector().createEvent(consultation, { idempotencyKey: KEY }));
    expect(err).toMatchObject({ code: 'network', retryable: true });
    expect(scope.isDone()).toBe(true);
  });

  it('times out after ctx.timeoutMs with a retryable timeout error', async () => {
    const scope = nock(GRAPH).post('/v1.0/me/events').reply(slowReply(1000, 201, { id: EVENT_ID }));
    const started = Date.now();
    const err = await caught(() => connector(staticOAuth(), {}, 100).createEvent(consultation, { idempotencyKey: KEY }));
    expect(err).toMatchObject({ code: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(900);
    expect(scope.isDone()).toBe(true);
  });

  it('refuses an event in an unknown time zone without calling Graph', async () => {
    const err = await caught(() => connector().createEvent({ ...consultation, timeZone: 'Mars/Olympus_Mons' }, { idempotencyKey: KEY }));
    expect(err).toMatchObject({ code: 'bad_request', retryable: false });
  });

  it('refuses to run without an OAuth session', async () => {
    const err = await caught(() => connector(null).ping());
    expect(err).toMatchObject({ code: 'misconfigured', retryable: false });
  });
});
