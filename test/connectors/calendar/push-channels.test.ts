import { useNock } from '../../support/nock';
import nock from 'nock';
import { googleCalendar } from '../../../connectors/calendar/google';
import { outlookCalendar } from '../../../connectors/calendar/outlook';
import type { CalendarConnector } from '../../../connectors/contracts';
import { ConnectorError } from '../../../connectors/errors';
import { context, staticOAuth } from '../../support/connectors';

// Request shapes from the vendors' references: Google Calendar events.watch and channels.stop
// (https://developers.google.com/calendar/api/v3/reference/events/watch), Microsoft Graph
// subscriptions (https://learn.microsoft.com/graph/api/subscription-post-subscriptions).

useNock();

const NOW = Date.parse('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
const watchInput = { address: 'https://tourhub.example.com/api/webhooks/google-calendar/i-1', token: 'tok-123', channelId: 'chan-1', ttlMs: 7 * DAY };

const google = () =>
  googleCalendar.create(context(googleCalendar, { accessToken: 'access-token-1' }, googleCalendar.settingsSchema.parse({}), { oauth: staticOAuth() })) as Required<CalendarConnector>;
const outlook = () =>
  outlookCalendar.create(context(outlookCalendar, { accessToken: 'access-token-1' }, outlookCalendar.settingsSchema.parse({}), { oauth: staticOAuth() })) as Required<CalendarConnector>;

describe('Google Calendar watch channels', () => {
  it('asks events.watch for a web_hook channel with our id, address, token and ttl, and returns its expiry', async () => {
    const scope = nock('https://www.googleapis.com')
      .post('/calendar/v3/calendars/primary/events/watch', { id: 'chan-1', type: 'web_hook', address: watchInput.address, token: 'tok-123', params: { ttl: '604800' } })
      .matchHeader('authorization', 'Bearer access-token-1')
      .reply(200, { kind: 'api#channel', id: 'chan-1', resourceId: 'res-9', resourceUri: 'https://www.googleapis.com/calendar/v3/calendars/primary/events', expiration: String(NOW + 7 * DAY) });
    expect(await google().watch(watchInput)).toEqual({ channelId: 'chan-1', resourceId: 'res-9', resource: 'https://www.googleapis.com/calendar/v3/calendars/primary/events', expiresAt: NOW + 7 * DAY });
    scope.done();
  });

  it('stops a channel by id and resource id; one already gone is fine', async () => {
    const scope = nock('https://www.googleapis.com')
      .post('/calendar/v3/channels/stop', { id: 'chan-1', resourceId: 'res-9' })
      .reply(204)
      .post('/calendar/v3/channels/stop', { id: 'chan-2', resourceId: 'res-9' })
      .reply(404, { error: { message: 'Channel not found' } });
    await google().stopWatch({ channelId: 'chan-1', resourceId: 'res-9', resource: 'r', expiresAt: NOW });
    await google().stopWatch({ channelId: 'chan-2', resourceId: 'res-9', resource: 'r', expiresAt: NOW });
    scope.done();
  });

  it('has no in-place renewal: a new channel replaces the old', () => {
    expect((google() as CalendarConnector).renewWatch).toBeUndefined();
  });
});

describe('Microsoft Graph subscriptions', () => {
  it('creates a subscription on the calendar events with our clientState, capped at 7 days', async () => {
    const scope = nock('https://graph.microsoft.com')
      .post('/v1.0/subscriptions', (body) => {
        expect(body).toEqual({
          changeType: 'created,updated,deleted',
          notificationUrl: watchInput.address,
          resource: 'me/events',
          expirationDateTime: new Date(NOW + 7 * DAY).toISOString(),
          clientState: 'tok-123',
        });
        return true;
      })
      .reply(201, { id: 'sub-7', resource: 'me/events', expirationDateTime: '2026-11-30T11:00:00Z', clientState: 'tok-123' });
    expect(await outlook().watch({ ...watchInput, ttlMs: 30 * DAY })).toEqual({ channelId: 'sub-7', resource: 'me/events', expiresAt: Date.parse('2026-11-30T11:00:00Z') });
    scope.done();
  });

  it('renews in place with PATCH, and deletes on stop (a gone one is fine)', async () => {
    const scope = nock('https://graph.microsoft.com')
      .patch('/v1.0/subscriptions/sub-7', { expirationDateTime: new Date(NOW + 3 * DAY).toISOString() })
      .reply(200, { id: 'sub-7', expirationDateTime: '2026-11-26T12:00:00Z' })
      .delete('/v1.0/subscriptions/sub-7')
      .reply(204)
      .delete('/v1.0/subscriptions/sub-8')
      .reply(404, { error: { code: 'ResourceNotFound', message: 'gone' } });
    const channel = { channelId: 'sub-7', resource: 'me/events', expiresAt: NOW };
    expect(await outlook().renewWatch(channel, 3 * DAY)).toEqual({ expiresAt: Date.parse('2026-11-26T12:00:00Z') });
    await outlook().stopWatch(channel);
    await outlook().stopWatch({ ...channel, channelId: 'sub-8' });
    scope.done();
  });

  it('refuses an answer without a subscription id', async () => {
    nock('https://graph.microsoft.com').post('/v1.0/subscriptions').reply(201, {});
    const err = await outlook().watch(watchInput).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).code).toBe('unexpected_response');
  });
});
