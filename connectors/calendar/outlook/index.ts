import { z } from 'zod';
import { oauthTokensSchema } from '../../oauth';
import type { ProviderEntry } from '../../registry-types';
import { createOutlookCalendarClient, GRAPH_HOSTS, PROVIDER } from './client';
import { graphStoredFields } from './mapping';

/** What the OAuth callback stores (encrypted) for the integration; the session reads and refreshes it. */
export const outlookCalendarCredentials = oauthTokensSchema;

export const outlookCalendarSettings = z
  .object({
    /** A calendar id from GET /me/calendars; absent means the user's default calendar. */
    calendarId: z.string().min(1).optional(),
    /** The note attendees see in Outlook's cancellation message. */
    cancellationComment: z.string().max(1000).default('This appointment has been cancelled.'),
  })
  .strict();

export const outlookCalendar: ProviderEntry<'calendar', typeof outlookCalendarCredentials, typeof outlookCalendarSettings> = {
  id: PROVIDER,
  category: 'calendar',
  displayName: 'Outlook Calendar (Microsoft 365)',
  auth: 'oauth2',
  credentialsSchema: outlookCalendarCredentials,
  settingsSchema: outlookCalendarSettings,
  hosts: GRAPH_HOSTS,
  // Outlook allows 10,000 requests per 10 minutes per app and mailbox (about 16 a second), and at most
  // 4 concurrent requests per app (https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits).
  ratePerSecond: 16,
  readable: true,
  storedForm: graphStoredFields,
  docsUrl: 'https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits',
  create: (ctx) =>
    createOutlookCalendarClient({
      oauth: ctx.oauth,
      ...(ctx.settings.calendarId !== undefined ? { calendarId: ctx.settings.calendarId } : {}),
      cancellationComment: ctx.settings.cancellationComment,
      http: ctx.http,
      now: ctx.now,
    }),
};
