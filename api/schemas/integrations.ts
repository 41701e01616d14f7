import { z } from 'zod';

/** Tour events an integration can react to (seed 000's event types that leave the product). */
export const INTEGRATION_EVENTS = ['tour_started', 'step_completed', 'step_skipped', 'tour_completed', 'tour_abandoned', 'feedback_submitted'] as const;

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as America/New_York' },
);

const common = {
  settings: z.record(z.string(), z.unknown()).optional(),
  field_mapping: z.record(z.string().min(1).max(100), z.string().min(1).max(200)).optional(),
  enabled_events: z.array(z.enum(INTEGRATION_EVENTS)).max(INTEGRATION_EVENTS.length).optional(),
  time_zone: timeZone.optional(),
  is_active: z.boolean().optional(),
};

export const createIntegrationBody = z.strictObject({
  provider: z.string().min(1).max(50),
  credentials: z.record(z.string(), z.unknown()),
  ...common,
});

export const updateIntegrationBody = z
  .strictObject({ credentials: z.record(z.string(), z.unknown()).optional(), ...common })
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one field to change' });

export const integrationParams = z.strictObject({ id: z.uuid({ message: 'must be a UUID' }) });
export const oauthParams = z.strictObject({ provider: z.string().min(1).max(50) });
export const oauthStartQuery = z.strictObject({ response: z.enum(['redirect', 'json']).optional() });
export const oauthCallbackQuery = z
  .object({
    code: z.string().min(1).max(4096).optional(),
    state: z.string().min(1).max(4096),
    error: z.string().max(200).optional(),
    error_description: z.string().max(2000).optional(),
  })
  // Providers add their own parameters (scope, session_state, iss): accept, ignore.
  .loose();
