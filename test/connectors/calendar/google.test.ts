import { connectionReset, slowReply, useNock } from '../../support/nock';
import nock from 'nock';
import { googleCalendar } from '../../../connectors/calendar/google';
import { base32hex, googleEventId, isValidGoogleEventId, toGoogleEvent } from '../../../connectors/calendar/google/mapping';
import type { OAuthSession } from '../../../connectors/contracts';
import { ConnectorError } from '../../../connectors/errors';
import { context, staticOAuth } from '../../support/connectors';
import { caught, consultation } from './helpers';

const API = 'https://www.googleapis.com';
const EVENTS = '/calendar/v3/calendars/primary/events';
const KEY = 'tour-event-7f3a:calendar:google-calendar';
const ID = googleEventId(KEY);
const creds = { accessToken: 'access-token-1', refreshToken: 'refresh-1', expiresAt: Date.parse('2026-11-23T13:00:00Z') };

function connector(oauth: OAuthSession | null = staticOAuth(), settings: Record<string, unknown> = {}, timeoutMs = 2000, baseUrl?: string) {
  return googleCalendar.create(context(googleCalendar, creds, googleCalendar.settingsSchema.parse(settings), { ...(oauth ? { oauth } : {}), timeoutMs, ...(baseUrl ? { baseUrl } : {}) }));
}

const expectedBody = {
  id: ID,
  summary: 'Follow-up consultation: Ada & Grace',
  description: 'Booked automatically when the venue tour was completed.',
  location: 'Rosewood Barn, 12 Mill Lane',
  start: { dateTime: '2026-11-30T14:00:00', timeZone: 'America/New_York' },
  end: { dateTime: '2026-11-30T15:00:00', timeZone: 'America/New_York' },
  attendees: [{ email: 'ada@example.com', displayName: 'Ada Lovelace' }, { email: 'grace@example.com' }],
};

useNock();

describe('google calendar mapping', () => {
  it('encodes bytes as lowercase unpadded base32hex (RFC 4648 test vector)', () => {
    expect(base32hex(Buffer.from('foobar'))).toBe('cpnmuoj1e8');
    expect(base32hex(Buffer.from('f'))).toBe('co');
  });

  it('derives the same valid 52-character event id from the same key, and different ids from different keys', () => {
    expect(googleEventId(KEY)).toBe(ID);
    expect(ID).toMatch(/^[a-v0-9]{52}$/);
    expect(isValidGoogleEventId(ID)).toBe(true);
    expect(googleEventId(`${KEY}:2`)).not.toBe(ID);
  });

  it('maps an event with local wall-clock times and the IANA zone, omitting absent fields', () => {
    expect(toGoogleEvent(consultation, ID)).toEqual(expectedBody);
    expect(toGoogleEvent({ summary: 'Check-in', start: '2026-12-01T09:00:00', end: '2026-12-01T09:15:00', timeZone: 'Europe/London', attendees: [] })).toStrictEqual({
      summary: 'Check-in',
      start: { dateTime: '2026-12-01T09:00:00', timeZone: 'Europe/London' },
      end: { dateTime: '2026-12-01T09:15:00', timeZone: 'Europe/London' },
      attendees: [],
    });
  });

  it('fills settings defaults and rejects unknown settings and credentials', () => {
    expect(googleCalendar.settingsSchema.parse({})).toEqual({ calendarId: 'primary', sendUpdates: 'all' });
    expect(() => googleCalendar.settingsSchema.parse({ calendar: 'x' })).toThrow();
    expect(() => googleCalendar.credentialsSchema.parse({ ...creds, apiKey: 'x' })).toThrow();
    expect(googleCalendar.credentialsSchema.parse(creds)).toEqual(creds);
  });
});

describe('google calendar connector', () => {
  it('creates the event with the id derived from the idempotency key, bearer auth and sendUpdates', async () => {
    const scope = nock(API, { reqheaders: { authorization: 'Bearer access-token-1', 'content-type': /application\/json/ } })
      .post(EVENTS, expectedBody)
      .query({ sendUpdates: 'all' })
      .reply(200, { ...expectedBody, status: 'confirmed' });
    await expect(connector().createEvent(consultation, { idempotencyKey: KEY })).resolves.toEqual({ eventId: ID });
    expect(scope.isDone()).toBe(true);
  });

  it('sends the same event id for the same key on every attempt', async () => {
    const ids: string[] = [];
    const scope = nock(API)
      .post(EVENTS, (body: { id: string }) => ids.push(body.id) > 0)
      .query(true)
      .twice()
      .reply(200, { id: ID });
    const c = connector();
    await c.createEvent(consultation, { idempotencyKey: KEY });
    await c.createEvent({ ...consultation, summary: 'changed' }, { idempotencyKey: KEY });
    expect(ids).toEqual([ID, ID]);
    expect(scope.isDone()).toBe(true);
  });

  it('returns the existing event when a retry hits 409 because the id already exists', async () => {
    const scope = nock(API)
      .post(EVENTS, expectedBody)
      .query({ sendUpdates: 'all' })
      .reply(409, { error: { code: 409, message: 'The requested identifier already exists.', errors: [{ domain: 'global', reason: 'duplicate' }] } })
      .get(`${EVENTS}/${ID}`)
      .matchHeader('authorization', 'Bearer access-token-1')
      .reply(200, { ...expectedBody, status: 'confirmed' });
    await expect(connector().createEvent(consultation, { idempotencyKey: KEY })).resolves.toEqual({ eventId: ID });
    expect(scope.isDone()).toBe(true);
  });

  it('uses the configured calendar and sendUpdates, and the deployment’s base URL', async () => {
    const scope = nock('http://127.0.0.1:8089')
      .post('/calendar/v3/calendars/weddings%40group.calendar.google.com/events', (body: { id: string }) => body.id === ID)
      .query({ sendUpdates: 'none' })
      .reply(200, { id: ID });
    const c = connector(staticOAuth(), { calendarId: 'weddings@group.calendar.google.com', sendUpdates: 'none' }, 2000, 'http://127.0.0.1:8089');
    await expect(c.createEvent(consultation, { idempotencyKey: KEY })).resolves.toEqual({ eventId: ID });
    expect(scope.isDone()).toBe(true);
  });

  it('replaces the event on update with PUT, without changing its id', async () => {
    const { id: _id, ...replacement } = expectedBody;
    const scope = nock(API, { reqheaders: { authorization: 'Bearer access-token-1', 'content-type': /application\/json/ } })
      .put(`${EVENTS}/${ID}`, replacement)
      .query({ sendUpdates: 'all' })
      .reply(200, { ...replacement, id: ID });
    await expect(connector().updateEvent(ID, consultation, { idempotencyKey: `${KEY}:update` })).resolves.toEqual({ eventId: ID });
    expect(scope.isDone()).toBe(true);
  });

  it('cancels with DELETE and sendUpdates=all', async () => {
    const scope = nock(API, { reqheaders: { authorization: 'Bearer access-token-1' } })
      .delete(`${EVENTS}/${ID}`)
      .query({ sendUpdates: 'all' })
      .reply(204);
    await expect(connector().cancelEvent(ID, { idempotencyKey: `${KEY}:cancel` })).resolves.toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it.each([404, 410])('treats %i on cancel as already cancelled', async (status) => {
    const scope = nock(API).delete(`${EVENTS}/${ID}`).query(true).reply(status, { error: { code: status, message: 'Resource has been deleted' } });
    await expect(connector().cancelEvent(ID, { idempotencyKey: `${KEY}:cancel` })).resolves.toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it('pings with the cheapest read the calendar.events scope allows', async () => {
    const scope = nock(API, { reqheaders: { authorization: 'Bearer access-token-1' } })
      .get(EVENTS)
      .query({ maxResults: '1' })
      .reply(200, { kind: 'calendar#events', items: [] });
    await expect(connector().ping()).resolves.toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it('refreshes the token exactly once after a 401 and retries with the new token', async () => {
    const oauth = staticOAuth();
    const scope = nock(API)
      .post(EVENTS)
      .query(true)
      .matchHeader('authorization', 'Bearer access-token-1')
      .reply(401, { error: { code: 401, message: 'Invalid Credentials', errors: [{ reason: 'authError' }] } })
      .post(EVENTS, expectedBody)
      .query(true)
      .matchHeader('authorization', 'Bearer access-token-2')
      .reply(200, { id: ID });
    await expect(connector(oauth).createEvent(consultation, { idempotencyKey: KEY })).resolves.toEqual({ eventId: ID });
    expect(oauth.refreshes).toBe(1);
    expect(scope.isDone()).toBe(true);
  });

  it('gives up with a non-retryable unauthorized error when the refreshed token is refused too', async () => {
    const oauth = staticOAuth();
    const scope = nock(API).post(EVENTS).query(true).twice().reply(401, { error: { code: 401, message: 'Invalid Credentials' } });
    const err = await caught(() => connector(oauth).createEvent(consultation, { idempotencyKey: KEY }));
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ code: 'unauthorized', retryable: false, status: 401, provider: 'google-calendar' });
    expect(oauth.refreshes).toBe(1);
    expect(scope.isDone()).toBe(true);
  });

  it('reports 429 as rate_limited, retryable, with Retry-After in milliseconds', async () => {
    const scope = nock(API).post(EVENTS).query(true).reply(429, { error: { code: 429, message: 'Rate Limit Exceeded', errors: [{ reason: 'rateLimitExceeded' }] } }, { 'Retry-After': '7' });
    const err = await caught(() => connector().createEvent(consultation, { idempotencyKey: KEY }));
    expect(err).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 7000, status: 429 });
    expect(scope.isDone()).toBe(true);
  });

  it('reports Google 403 usage-limit errors as rate_limited, and other 403s as forbidden', async () => {
    const scope = nock(API)
      .post(EVENTS)
      .query(true)
      .reply(403, { error: { code: 403, message: 'User Rate Limit Exceeded', errors: [{ domain: 'usageLimits', reason: 'userRateLimitExceeded' }] } })
      .post(EVENTS)
      .query(true)
      .reply(403, { error: { code: 403, message: 'Forbidden', errors: [{ domain: 'global', reason: 'forbidden' }] } });
    await expect(caught(() => connector().createEvent(consultation, { idempotencyKey: KEY }))).resolves.toMatchObject({ code: 'rate_limited', retryable: true, status: 403 });
    await expect(caught(() => connector().createEvent(consultation, { idempotencyKey: KEY }))).resolves.toMatchObject({ code: 'forbidden', retryable: false, status: 403 });
    expect(scope.isDone()).toBe(true);
  });

  it('reports 500 as retryable after one attempt (the SDK does not retry on its own)', async () => {
    const scope = nock(API).put(`${EVENTS}/${ID}`).query(true).once().reply(500, { error: { code: 500, message: 'Backend Error' } });
    const err = await caught(() => connector().updateEvent(ID, consultation, { idempotencyKey: KEY }));
    expect(err).toMatchObject({ code: 'provider_unavailable', retryable: true, status: 500 });
    expect(scope.isDone()).toBe(true);
  });

  it('reports a reset connection as a retryable network error', async () => {
    const scope = nock(API).post(EVENTS).query(true).replyWithError(connectionReset());
    const err = await caught(() => connector().createEvent(consultation, { idempotencyKey: KEY }));
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ code: 'network', retryable: true });
    expect(scope.isDone()).toBe(true);
  });

  it('times out after ctx.timeoutMs with a retryable timeout error', async () => {
    const scope = nock(API).post(EVENTS).query(true).reply(slowReply(1000, 200, { id: ID }));
    const started = Date.now();
    const err = await caught(() => connector(staticOAuth(), {}, 100).createEvent(consultation, { idempotencyKey: KEY }));
    expect(err).toMatchObject({ code: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(900);
    expect(scope.isDone()).toBe(true);
  });

  it('refuses to run without an OAuth session', async () => {
    const err = await caught(() => connector(null).ping());
    expect(err).toMatchObject({ code: 'misconfigured', retryable: false });
  });
});
