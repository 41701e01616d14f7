import { useNock } from '../../support/nock';
import nock from 'nock';
import { appleCalendar } from '../../../connectors/calendar/apple';
import { eventFilename, eventUid } from '../../../connectors/calendar/apple/mapping';
import { context } from '../../support/connectors';
import { ERROR_CASES, expectClassified } from '../error-table';

// CalDAV (RFC 4791) as iCloud serves it: PROPFIND discovery on caldav.icloud.com, the calendar home on
// the account's partition host, PUT of a VEVENT with If-None-Match: *, DELETE.
const ROOT = 'https://caldav.icloud.com';
const HOME = 'https://p52-caldav.icloud.com';
const creds = { appleId: 'planner@icloud.com', appSpecificPassword: 'abcd-efgh-ijkl-mnop' };
const auth = `Basic ${Buffer.from('planner@icloud.com:abcd-efgh-ijkl-mnop').toString('base64')}`;
const xml = { 'content-type': 'text/xml; charset=utf-8' };
const event = {
  summary: 'Follow-up consultation with Ada Lovelace',
  description: 'After the tour',
  start: '2026-11-26T14:00:00',
  end: '2026-11-26T15:00:00',
  timeZone: 'America/New_York',
  attendees: [{ email: 'Ada@Example.com', name: 'Ada Lovelace' }],
};

const multistatus = (responses: string) => `<?xml version="1.0" encoding="UTF-8"?><multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">${responses}</multistatus>`;
function discovery() {
  nock(ROOT, { reqheaders: { authorization: auth } })
    .intercept('/', 'PROPFIND')
    .reply(207, multistatus('<response><href>/</href><propstat><prop><current-user-principal><href>/123456/principal/</href></current-user-principal></prop><status>HTTP/1.1 200 OK</status></propstat></response>'), xml);
  nock(ROOT, { reqheaders: { authorization: auth } })
    .intercept('/123456/principal/', 'PROPFIND')
    .reply(207, multistatus('<response><href>/123456/principal/</href><propstat><prop><C:calendar-home-set><href>https://p52-caldav.icloud.com:443/123456/calendars/</href></C:calendar-home-set></prop><status>HTTP/1.1 200 OK</status></propstat></response>'), xml);
  nock(HOME, { reqheaders: { authorization: auth } })
    .intercept('/123456/calendars/', 'PROPFIND')
    .reply(
      207,
      multistatus(
        '<response><href>/123456/calendars/tasks/</href><propstat><prop><displayname>Reminders</displayname><resourcetype><collection/><C:calendar/></resourcetype><C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set></prop><status>HTTP/1.1 200 OK</status></propstat></response>' +
          '<response><href>/123456/calendars/home/</href><propstat><prop><displayname>Home</displayname><resourcetype><collection/><C:calendar/></resourcetype><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></prop><status>HTTP/1.1 200 OK</status></propstat></response>',
      ),
      xml,
    );
  // tsdav asks each calendar for its supported-report-set.
  for (const cal of ['tasks', 'home']) {
    nock(HOME)
      .intercept(`/123456/calendars/${cal}/`, 'PROPFIND')
      .reply(207, multistatus(`<response><href>/123456/calendars/${cal}/</href><propstat><prop><supported-report-set/></prop><status>HTTP/1.1 200 OK</status></propstat></response>`), xml);
  }
}
const connector = () => appleCalendar.create(context(appleCalendar, creds, {}));

useNock({ assertDone: true });

describe('Apple Calendar connector (CalDAV through tsdav on the guarded fetch)', () => {
  it('createEvent discovers the calendar, then PUTs the VEVENT at <uid>.ics with If-None-Match: *', async () => {
    discovery();
    const uid = eventUid('evt-1');
    let ics = '';
    nock(HOME, { reqheaders: { authorization: auth, 'if-none-match': '*', 'content-type': 'text/calendar; charset=utf-8' } })
      .put(`/123456/calendars/home/${eventFilename(uid)}`, (body: string) => ((ics = body), true))
      .reply(201);
    await expect(connector().createEvent(event, { idempotencyKey: 'evt-1' })).resolves.toEqual({ eventId: uid });
    expect(ics).toContain(`UID:${uid}`);
    expect(ics).toContain('DTSTART:20261126T190000Z');
    expect(ics).toContain('ORGANIZER;CN="planner@icloud.com":mailto:planner@icloud.com');
    // RFC 5545 folds long lines with CRLF + space.
    expect(ics.replace(/\r\n /g, '')).toMatch(/ATTENDEE;[^\r\n]*CN="Ada Lovelace"[^\r\n]*:MAILTO:ada@example\.com/);
  });

  it('a retried create after a crash mid-call meets the event the first attempt made (412) and returns the same UID', async () => {
    discovery();
    const uid = eventUid('evt-2');
    nock(HOME).put(`/123456/calendars/home/${eventFilename(uid)}`).matchHeader('if-none-match', '*').reply(412);
    await expect(connector().createEvent(event, { idempotencyKey: 'evt-2' })).resolves.toEqual({ eventId: uid });
  });

  it('updateEvent PUTs the same resource without preconditions and a higher SEQUENCE', async () => {
    discovery();
    const uid = eventUid('evt-1');
    nock(HOME, { badheaders: ['if-none-match'] }).put(`/123456/calendars/home/${eventFilename(uid)}`, (b: string) => /SEQUENCE:[1-9]\d*/.test(b)).reply(204);
    await expect(connector().updateEvent(uid, event, { idempotencyKey: 'evt-1:update' })).resolves.toEqual({ eventId: uid });
  });

  it('cancelEvent DELETEs the resource; one already gone (404) counts as cancelled', async () => {
    discovery();
    const uid = eventUid('evt-1');
    nock(HOME, { reqheaders: { authorization: auth } }).delete(`/123456/calendars/home/${eventFilename(uid)}`).reply(404);
    await connector().cancelEvent(uid, { idempotencyKey: 'k' });
  });

  it('ping is the discovery; a wrong app-specific password is unauthorized', async () => {
    discovery();
    await connector().ping();
    nock(ROOT).intercept('/', 'PROPFIND').reply(401);
    await expect(connector().ping()).rejects.toMatchObject({ code: 'unauthorized', retryable: false, provider: 'apple-calendar' });
  });

  describe('error classifier (on the PUT)', () => {
    it.each(ERROR_CASES)('$name', (c) => {
      discovery();
      return expectClassified('apple-calendar', () => nock(HOME).put(`/123456/calendars/home/${eventFilename(eventUid('e'))}`), () => connector().createEvent(event, { idempotencyKey: 'e' }), c);
    });
  });
});
