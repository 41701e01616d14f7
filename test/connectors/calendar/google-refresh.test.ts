import { slowReply, useNock } from '../../support/nock';
import nock from 'nock';
import { googleCalendar } from '../../../connectors/calendar/google';
import { googleEventId } from '../../../connectors/calendar/google/mapping';
import { googleOAuth } from '../../../connectors/calendar/oauth-providers';
import { createOAuthSession } from '../../../connectors/oauth';
import { context, testOutbound } from '../../support/connectors';
import { consultation, memoryOAuthStore } from './helpers';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const now = () => NOW;

useNock();

describe('google calendar with a real OAuth session', () => {
  it('refreshes an expired token once for 10 concurrent creates, all of which use and store the new token', async () => {
    const store = memoryOAuthStore({ accessToken: 'ya29.expired', refreshToken: '1//refresh', expiresAt: NOW - 1000 });
    const oauth = createOAuthSession({
      store,
      refreshGrant: googleOAuth.refreshGrant({ clientId: 'client-123', clientSecret: 'shh-secret', timeoutMs: 2000, guard: testOutbound(), now }),
      now,
    });

    // One token interceptor, not persisted: a second refresh would find no match and fail its create.
    const token = nock('https://oauth2.googleapis.com')
      .post('/token', { grant_type: 'refresh_token', refresh_token: '1//refresh', client_id: 'client-123', client_secret: 'shh-secret' })
      // Slow enough that all ten calls are waiting on the refresh.
      .reply(slowReply(50, 200, { access_token: 'ya29.fresh', expires_in: 3599, token_type: 'Bearer', scope: 'https://www.googleapis.com/auth/calendar.events' }));

    const seen: string[] = [];
    const calendar = nock('https://www.googleapis.com')
      .post('/calendar/v3/calendars/primary/events', (body: { id: string }) => seen.push(body.id) > 0)
      .query({ sendUpdates: 'all' })
      .times(10)
      .matchHeader('authorization', 'Bearer ya29.fresh')
      .reply(200, { status: 'confirmed' });

    const connector = googleCalendar.create(context(googleCalendar, store.tokens, googleCalendar.settingsSchema.parse({}), { oauth, now }));
    const keys = Array.from({ length: 10 }, (_, i) => `tour-event-${i}:calendar:google-calendar`);
    const results = await Promise.all(keys.map((idempotencyKey) => connector.createEvent(consultation, { idempotencyKey })));

    expect(results.map((r) => r.eventId).sort()).toEqual(keys.map(googleEventId).sort());
    expect(seen.sort()).toEqual(keys.map(googleEventId).sort());
    expect(token.isDone()).toBe(true);
    expect(calendar.isDone()).toBe(true);
    expect(store.tokens).toEqual({
      accessToken: 'ya29.fresh',
      refreshToken: '1//refresh',
      expiresAt: NOW + 3_599_000,
      scope: 'https://www.googleapis.com/auth/calendar.events',
    });
    expect(await oauth.accessToken()).toBe('ya29.fresh');
  });

  it('collapses the refreshes of concurrent 401s into one and retries each call once', async () => {
    const store = memoryOAuthStore({ accessToken: 'ya29.revoked', refreshToken: '1//refresh', expiresAt: NOW + 3_000_000 });
    const oauth = createOAuthSession({
      store,
      refreshGrant: googleOAuth.refreshGrant({ clientId: 'client-123', clientSecret: 'shh-secret', timeoutMs: 2000, guard: testOutbound(), now }),
      now,
    });
    const token = nock('https://oauth2.googleapis.com').post('/token').reply(200, { access_token: 'ya29.fresh', expires_in: 3599 });
    const calendar = nock('https://www.googleapis.com')
      .post('/calendar/v3/calendars/primary/events')
      .query(true)
      .times(5)
      .matchHeader('authorization', 'Bearer ya29.revoked')
      .reply(401, { error: { code: 401, message: 'Invalid Credentials' } })
      .post('/calendar/v3/calendars/primary/events')
      .query(true)
      .times(5)
      .matchHeader('authorization', 'Bearer ya29.fresh')
      .reply(200, {});
    const connector = googleCalendar.create(context(googleCalendar, store.tokens, googleCalendar.settingsSchema.parse({}), { oauth, now }));
    await Promise.all([0, 1, 2, 3, 4].map((i) => connector.createEvent(consultation, { idempotencyKey: `k${i}` })));
    expect(token.isDone()).toBe(true);
    expect(calendar.isDone()).toBe(true);
    expect(store.tokens.accessToken).toBe('ya29.fresh');
  });
});
