import { z } from 'zod';
import type { ProviderEntry } from '../../registry-types';
import { createAppleCalendarClient } from './client';
import { ICLOUD_HOSTS } from './mapping';

const credentialsSchema = z
  .object({
    /** The Apple Account's email address. */
    appleId: z.email({ error: 'the Apple Account email address' }),
    /** account.apple.com > Sign-In and Security > App-Specific Passwords: xxxx-xxxx-xxxx-xxxx (never the account password). */
    appSpecificPassword: z.string().trim().regex(/^[a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}$/, 'an app-specific password, xxxx-xxxx-xxxx-xxxx'),
  })
  .strict();

const settingsSchema = z
  .object({
    /** The calendar's name as Calendar shows it; absent: the first calendar that holds events. */
    calendarName: z.string().trim().min(1).max(255).optional(),
  })
  .strict();

export const appleCalendar: ProviderEntry<'calendar', typeof credentialsSchema, typeof settingsSchema> = {
  id: 'apple-calendar',
  category: 'calendar',
  displayName: 'Apple Calendar (iCloud)',
  auth: 'api-key',
  credentialsSchema,
  settingsSchema,
  hosts: ICLOUD_HOSTS,
  // Apple publishes no CalDAV rate limit; iCloud answers 503 with Retry-After when it wants less
  // (honoured by classify). 2 a second is a calendar app's pace; README "Assumptions to verify".
  ratePerSecond: 2,
  docsUrl: 'https://support.apple.com/en-us/102654',
  create: (ctx) => createAppleCalendarClient(ctx),
};
