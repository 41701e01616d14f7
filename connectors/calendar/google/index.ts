import { z } from 'zod';
import { oauthTokensSchema } from '../../oauth';
import type { ProviderEntry } from '../../registry-types';
import { createGoogleCalendarClient, PROVIDER } from './client';

/** What the OAuth callback stores (encrypted) for the integration; the session reads and refreshes it. */
export const googleCalendarCredentials = oauthTokensSchema;

export const googleCalendarSettings = z
  .object({
    /** A calendar id from calendarList, or 'primary' for the connected user's main calendar. */
    calendarId: z.string().min(1).default('primary'),
    /** Who Google emails about creates, changes and cancellations. */
    sendUpdates: z.enum(['all', 'externalOnly', 'none']).default('all'),
    /** Overrides https://www.googleapis.com/ (tests, sandboxes). */
    baseUrl: z.string().url().optional(),
  })
  .strict();

export const googleCalendar: ProviderEntry<'calendar', typeof googleCalendarCredentials, typeof googleCalendarSettings> = {
  id: PROVIDER,
  category: 'calendar',
  displayName: 'Google Calendar',
  auth: 'oauth2',
  credentialsSchema: googleCalendarCredentials,
  settingsSchema: googleCalendarSettings,
  // 600 requests per minute per user per project (https://developers.google.com/workspace/calendar/api/guides/quota).
  ratePerSecond: 10,
  docsUrl: 'https://developers.google.com/workspace/calendar/api/guides/quota',
  create: (ctx) =>
    createGoogleCalendarClient({
      oauth: ctx.oauth,
      calendarId: ctx.settings.calendarId,
      sendUpdates: ctx.settings.sendUpdates,
      ...(ctx.settings.baseUrl !== undefined ? { baseUrl: ctx.settings.baseUrl } : {}),
      timeoutMs: ctx.timeoutMs,
      now: ctx.now,
    }),
};
