import { z } from 'zod';
import { HUB_EVENT_TYPES } from '../../domain/hub';

/**
 * Tour events an integration can react to: the hub's routable events (step_completed and step_skipped
 * stay in analytics and are never routed, so accepting them would promise something that never happens).
 */
export const INTEGRATION_EVENTS = HUB_EVENT_TYPES;

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

const days = z.number().int().min(0).max(365);
const hour = z.number().int().min(0).max(23);
const minutes = z.number().int().min(5).max(480);

/**
 * Overrides of seed 001's route defaults. `null` drops an override (back to the default); on PATCH the
 * fields sent are merged into the stored ones.
 */
export const routeSettingsBody = z.strictObject({
  follow_up_task_days: days.nullable().optional(),
  abandoned_task_days: days.nullable().optional(),
  consultation_days_after: days.nullable().optional(),
  consultation_hour: hour.nullable().optional(),
  consultation_minutes: minutes.nullable().optional(),
  check_in_hour: hour.nullable().optional(),
  check_in_minutes: minutes.nullable().optional(),
  sms_welcome_enabled: z.boolean().nullable().optional(),
});
export type RouteSettingsBody = z.infer<typeof routeSettingsBody>;

const common = {
  settings: z.record(z.string(), z.unknown()).optional(),
  field_mapping: z.record(z.string().min(1).max(100), z.string().min(1).max(200)).optional(),
  enabled_events: z.array(z.enum(INTEGRATION_EVENTS)).max(INTEGRATION_EVENTS.length).optional(),
  time_zone: timeZone.optional(),
  is_active: z.boolean().optional(),
  routes: routeSettingsBody.optional(),
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

export const DELIVERY_STATUSES = ['pending', 'failed', 'succeeded', 'dead'] as const;

/** An opaque keyset position: base64url of `{"t": created_at (microseconds, UTC), "i": id}`. */
export const deliveryCursor = z.string().max(200).transform((raw, ctx) => {
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    const parsed = z.strictObject({ t: z.iso.datetime({ precision: 6 }), i: z.uuid() }).safeParse(value);
    if (parsed.success) return { createdAt: parsed.data.t, id: parsed.data.i };
  } catch {
    // falls through to the issue below
  }
  ctx.addIssue({ code: 'custom', message: 'not a cursor this API returned (use next_cursor as given)' });
  return z.NEVER;
});

/** `?limit=` as a whole number in 1..max (query strings are text). */
export const limitQuery = (max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .default(fallback);

export const listDeliveriesQuery = z.strictObject({
  status: z.enum(DELIVERY_STATUSES).optional(),
  integration_id: z.uuid({ message: 'must be a UUID' }).optional(),
  event_type: z.enum(HUB_EVENT_TYPES).optional(),
  limit: limitQuery(200, 50),
  cursor: deliveryCursor.optional(),
});

export const deliveryParams = z.strictObject({ id: z.uuid({ message: 'must be a UUID' }) });

/** The only batch replay there is: every dead delivery of one integration. */
export const replayIntegrationBody = z.strictObject({ status: z.literal('dead').optional() });
