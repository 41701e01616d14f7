import { useNock } from '../../support/nock';
import nock from 'nock';
import { googleCalendar } from '../../../connectors/calendar/google';
import { toGoogleEvent } from '../../../connectors/calendar/google/mapping';
import { outlookCalendar } from '../../../connectors/calendar/outlook';
import { graphUtc, toGraphEvent } from '../../../connectors/calendar/outlook/mapping';
import { context, staticOAuth, connectorFailure } from '../../support/connectors';
import { consultation } from './helpers';

// Google: events.list (syncToken, pageToken, maxResults, showDeleted; nextPageToken, nextSyncToken; 410
// when a sync token expired) and Event.reminders {useDefault, overrides[{method, minutes}]}.
// Graph: GET /me/calendarView/delta?startDateTime&endDateTime, Prefer: odata.maxpagesize, @odata.nextLink,
// @odata.deltaLink, `@removed`; event.isReminderOn and reminderMinutesBeforeStart.
const GOOGLE = 'https://www.googleapis.com';
const GRAPH = 'https://graph.microsoft.com';
const STARTED = Date.parse('2026-11-28T12:00:00Z');
const REMINDERS = [
  { method: 'email' as const, minutes: 1440 },
  { method: 'popup' as const, minutes: 15 },
];

const google = () => googleCalendar.create(context(googleCalendar, { accessToken: 't' }, googleCalendar.settingsSchema.parse({}), { oauth: staticOAuth() }));
const outlook = () => outlookCalendar.create(context(outlookCalendar, { accessToken: 't' }, outlookCalendar.settingsSchema.parse({}), { oauth: staticOAuth() }));

useNock({ assertDone: true });

describe('reminders on the events we book', () => {
  it('Google gets seed 001\'s reminders as overrides instead of the calendar\'s defaults', () => {
    expect(toGoogleEvent({ ...consultation, reminders: REMINDERS }).reminders).toEqual({ useDefault: false, overrides: REMINDERS });
    expect(toGoogleEvent(consultation).reminders).toBeUndefined();
  });

  it('Outlook keeps one reminder, the popup\'s 15 minutes (Graph has no email reminder)', () => {
    expect(toGraphEvent({ ...consultation, reminders: REMINDERS })).toMatchObject({ isReminderOn: true, reminderMinutesBeforeStart: 15 });
    expect(toGraphEvent({ ...consultation, reminders: [] })).toMatchObject({ isReminderOn: false });
    expect(toGraphEvent(consultation)).not.toHaveProperty('isReminderOn');
  });

  it('Google receives them on insert', async () => {
    nock(GOOGLE)
      .post('/calendar/v3/calendars/primary/events', (body) => JSON.stringify(body.reminders) === JSON.stringify({ useDefault: false, overrides: REMINDERS }))
      .query(true)
      .reply(200, { id: 'evt1' });
    expect(await google().createEvent({ ...consultation, reminders: REMINDERS }, { idempotencyKey: 'k' })).toEqual({ eventId: 'evt1' });
  });
});

describe('Google Calendar two-way sync reads', () => {
  it('a full pass pages with pageToken, deleted events included, and ends with the next sync token', async () => {
    nock(GOOGLE, { reqheaders: { authorization: 'Bearer access-token-1' } })
      .get('/calendar/v3/calendars/primary/events')
      .query({ maxResults: 250, showDeleted: 'true' })
      .reply(200, {
        items: [
          { id: 'evt1', status: 'confirmed', summary: 'Consultation', updated: '2026-11-27T10:00:00.000Z', start: { dateTime: '2026-11-30T14:00:00-05:00' }, end: { dateTime: '2026-11-30T15:00:00-05:00' } },
        ],
        nextPageToken: 'p2',
      });
    nock(GOOGLE)
      .get('/calendar/v3/calendars/primary/events')
      .query({ maxResults: 250, showDeleted: 'true', pageToken: 'p2' })
      .reply(200, { items: [{ id: 'evt2', status: 'cancelled' }], nextSyncToken: 'sync-2' });
    const first = await google().listChanges!({ pageSize: 250, startedAt: STARTED });
    expect(first).toEqual({
      nextPage: 'p2',
      records: [{ key: 'evt1', remoteId: 'evt1', updatedAt: '2026-11-27T10:00:00.000Z', fields: { start: '2026-11-30T19:00:00Z', end: '2026-11-30T20:00:00Z', summary: 'Consultation', cancelled: false } }],
    });
    expect(await google().listChanges!({ pageSize: 250, page: 'p2', startedAt: STARTED })).toEqual({
      cursor: 'sync-2',
      records: [{ key: 'evt2', remoteId: 'evt2', updatedAt: null, fields: { cancelled: true } }],
    });
  });

  it('an incremental pass sends the sync token; an expired one (410) asks for a full pass', async () => {
    nock(GOOGLE).get('/calendar/v3/calendars/primary/events').query({ maxResults: 100, showDeleted: 'true', syncToken: 'sync-2' }).reply(200, { items: [], nextSyncToken: 'sync-3' });
    expect(await google().listChanges!({ cursor: 'sync-2', pageSize: 100, startedAt: STARTED })).toEqual({ records: [], cursor: 'sync-3' });
    nock(GOOGLE)
      .get('/calendar/v3/calendars/primary/events')
      .query({ maxResults: 100, showDeleted: 'true', syncToken: 'sync-3' })
      .reply(410, { error: { code: 410, message: 'Sync token is no longer valid, a full sync is required.', errors: [{ reason: 'fullSyncRequired' }] } });
    expect(await connectorFailure(google().listChanges!({ cursor: 'sync-3', pageSize: 100, startedAt: STARTED }))).toMatchObject({ code: 'cursor_expired', retryable: false });
  });
});

describe('Outlook two-way sync reads', () => {
  const prefer = 'IdType="ImmutableId", outlook.timezone="UTC", odata.maxpagesize=100';

  it('a round starts over a window around now, follows nextLink, and ends with a deltaLink for the next pass', async () => {
    nock(GRAPH, { reqheaders: { authorization: 'Bearer access-token-1', prefer } })
      .get('/v1.0/me/calendarView/delta')
      .query({ startDateTime: '2026-10-29T12:00:00.000Z', endDateTime: '2028-01-02T12:00:00.000Z' })
      .reply(200, {
        value: [{ id: 'AAMk1', subject: 'Consultation', start: { dateTime: '2026-11-30T19:00:00.0000000', timeZone: 'UTC' }, end: { dateTime: '2026-11-30T20:00:00.0000000', timeZone: 'UTC' }, isCancelled: false, lastModifiedDateTime: '2026-11-27T10:00:00Z' }],
        '@odata.nextLink': `${GRAPH}/v1.0/me/calendarView/delta?$skiptoken=abc`,
      });
    nock(GRAPH, { reqheaders: { prefer } })
      .get('/v1.0/me/calendarView/delta')
      .query({ $skiptoken: 'abc' })
      .reply(200, { value: [{ id: 'AAMk2', '@removed': { reason: 'deleted' } }], '@odata.deltaLink': `${GRAPH}/v1.0/me/calendarView/delta?$deltatoken=d1` });
    const first = await outlook().listChanges!({ pageSize: 100, startedAt: STARTED });
    expect(first).toEqual({
      nextPage: `${GRAPH}/v1.0/me/calendarView/delta?$skiptoken=abc`,
      records: [{ key: 'AAMk1', remoteId: 'AAMk1', updatedAt: '2026-11-27T10:00:00Z', fields: { start: '2026-11-30T19:00:00Z', end: '2026-11-30T20:00:00Z', summary: 'Consultation', cancelled: false } }],
    });
    expect(await outlook().listChanges!({ pageSize: 100, page: first.nextPage!, startedAt: STARTED })).toEqual({
      cursor: `${GRAPH}/v1.0/me/calendarView/delta?$deltatoken=d1`,
      records: [{ key: 'AAMk2', remoteId: 'AAMk2', updatedAt: null, fields: { cancelled: true } }],
    });
  });

  it('an expired delta link (410) asks for a full pass, and a link to any other host is refused before anything is sent', async () => {
    nock(GRAPH).get('/v1.0/me/calendarView/delta').query({ $deltatoken: 'old' }).reply(410, { error: { code: 'SyncStateNotFound', message: 'The sync state is not found.' } });
    expect(await connectorFailure(outlook().listChanges!({ cursor: `${GRAPH}/v1.0/me/calendarView/delta?$deltatoken=old`, pageSize: 100, startedAt: STARTED }))).toMatchObject({ code: 'cursor_expired' });
    expect(await connectorFailure(outlook().listChanges!({ cursor: 'https://evil.example/steal', pageSize: 100, startedAt: STARTED }))).toMatchObject({ code: 'outbound_forbidden' });
  });

  it('converts a time Graph names in an IANA zone to UTC', () => {
    expect(graphUtc({ dateTime: '2026-11-30T14:00:00.0000000', timeZone: 'America/New_York' })).toBe('2026-11-30T19:00:00Z');
    expect(graphUtc({ dateTime: '2026-11-30T14:00:00', timeZone: 'Not/AZone' })).toBeNull();
  });
});
