import { z } from 'zod';
import { oauthTokensSchema } from '../../oauth';
import type { ProviderEntry } from '../../registry-types';
import { createGoogleCalendarClient, GOOGLE_CALENDAR_HOSTS, PROVIDER } from './client';
import { googleStoredFields } from './mapping';

/** What the OAuth callback stores (encrypted) for the integration; the session reads and refreshes it. */
export const googleCalendarCredentials = oauthTokensSchema;

export const googleCalendarSettings = z
  .object({
    /** A calendar id from calendarList, or 'primary' for the connected user's main calendar. */
    calendarId: z.string().min(1).default('primary'),
    /** Who Google emails about creates, changes and cancellations. */
    sendUpdates: z.enum(['all', 'externalOnly', 'none']).default('all'),
  })
  .strict();

export const googleCalendar: ProviderEntry<'calendar', typeof googleCalendarCredentials, typeof googleCalendarSettings> = {
  id: PROVIDER,
  category: 'calendar',
  displayName: 'Google Calendar',
  auth: 'oauth2',
  credentialsSchema: googleCalendarCredentials,
  settingsSchema: googleCalendarSettings,
  hosts: GOOGLE_CALENDAR_HOSTS,
  // 600 requests per minute per user per project (https://developers.google.com/workspace/calendar/api/guides/quota).
  ratePerSecond: 10,
  readable: true,
  storedForm: googleStoredFields,
  docsUrl: 'https://developers.google.com/workspace/calendar/api/guides/quota',
  create: (ctx) =>
    createGoogleCalendarClient({
      oauth: ctx.oauth,
      calendarId: ctx.settings.calendarId,
      sendUpdates: ctx.settings.sendUpdates,
      http: ctx.http,
      now: ctx.now,
    }),
};
