import { z } from 'zod';
import { HUB_EVENT_TYPES } from '../../../domain/hub';
import { routeOptions } from '../../../domain/routes';
import type { IntegrationRecord } from '../../../services/providers';
import { named } from '../../openapi';
import { iso, jsonObject, timestamp, canonicalUuid } from '../shared';

export const IntegrationParams = z.strictObject({ id: canonicalUuid() });

const HEALTH = ['healthy', 'degraded', 'disabled'] as const;

export const IntegrationView = named(
  'Integration',
  z.strictObject({
    id: canonicalUuid(),
    provider: z.string(),
    type: z.string().describe('The category: crm, calendar, payment, email or sms'),
    display_name: z.string(),
    is_active: z.boolean(),
    health: z.enum(HEALTH),
    settings: jsonObject.describe("The provider's own settings"),
    field_mapping: z.record(z.string(), z.string()),
    enabled_events: z.array(z.string()).describe('Empty: every routable event'),
    time_zone: z.string().nullable().describe("The integration's own zone, null for the organisation's"),
    routes: z
      .strictObject({
        follow_up_task_days: z.number().int(),
        abandoned_task_days: z.number().int(),
        consultation_days_after: z.number().int(),
        consultation_hour: z.number().int(),
        consultation_minutes: z.number().int(),
        check_in_hour: z.number().int(),
        check_in_minutes: z.number().int(),
        sms_welcome_enabled: z.boolean(),
        send_immediate_welcome: z.boolean().describe('Email: the welcome template at once, before the welcome sequence'),
        time_zone: z.string(),
      })
      .describe("What the routes will do: the overrides over seed 001's defaults, in the effective zone"),
    route_overrides: jsonObject.describe('What is stored'),
    credentials: z.record(z.string(), z.string()).describe('Masked (••••1234); never a value'),
    created_at: timestamp,
    updated_at: timestamp,
  }),
);

export const IntegrationEnvelope = named('IntegrationEnvelope', z.strictObject({ integration: IntegrationView }));

export function presentIntegration({ row, displayName, orgTimeZone, settings, credentials }: IntegrationRecord): z.input<typeof IntegrationView> {
  const effective = routeOptions(row.settings, orgTimeZone);
  return {
    id: row.id,
    provider: row.provider,
    type: row.type,
    display_name: displayName,
    is_active: row.is_active,
    health: row.health,
    settings,
    field_mapping: row.settings.field_mapping ?? {},
    enabled_events: row.settings.enabled_events ?? [],
    time_zone: row.settings.time_zone ?? null,
    routes: {
      follow_up_task_days: effective.followUpTaskDays,
      abandoned_task_days: effective.abandonedTaskDays,
      consultation_days_after: effective.consultationDaysAfter,
      consultation_hour: effective.consultationHour,
      consultation_minutes: effective.consultationMinutes,
      check_in_hour: effective.checkInHour,
      check_in_minutes: effective.checkInMinutes,
      sms_welcome_enabled: effective.smsWelcomeEnabled,
      send_immediate_welcome: effective.sendImmediateWelcome,
      time_zone: effective.timeZone,
    },
    route_overrides: row.settings.routes ?? {},
    credentials,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/**
 * Tour events an integration can react to: the hub's routable events (step_completed and step_skipped
 * stay in analytics and are never routed, so accepting them would promise something that never happens).
 */
const INTEGRATION_EVENTS = HUB_EVENT_TYPES;

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

/** Overrides of seed 001's route defaults. `null` drops an override (back to the default); a PATCH merges the fields sent into the stored ones. */
const RouteSettingsBody = z.strictObject({
  follow_up_task_days: days.nullable().optional(),
  abandoned_task_days: days.nullable().optional(),
  consultation_days_after: days.nullable().optional(),
  consultation_hour: hour.nullable().optional(),
  consultation_minutes: minutes.nullable().optional(),
  check_in_hour: hour.nullable().optional(),
  check_in_minutes: minutes.nullable().optional(),
  sms_welcome_enabled: z.boolean().nullable().optional(),
  send_immediate_welcome: z.boolean().nullable().optional(),
});

/** The fields a create and a PATCH share. */
export const integrationFields = {
  settings: jsonObject.optional().describe("The provider's own settings, checked against its schema"),
  field_mapping: z.record(z.string().min(1).max(100), z.string().min(1).max(200)).optional().describe("Our field names to the provider's custom fields"),
  enabled_events: z.array(z.enum(INTEGRATION_EVENTS)).max(INTEGRATION_EVENTS.length).optional().describe('Empty: every routable event'),
  time_zone: timeZone.optional(),
  is_active: z.boolean().optional(),
  routes: RouteSettingsBody.optional(),
};

/** A body's fields as the integration service takes them. */
export function integrationInput(body: {
  settings?: Record<string, unknown> | undefined;
  field_mapping?: Record<string, string> | undefined;
  enabled_events?: string[] | undefined;
  time_zone?: string | undefined;
  is_active?: boolean | undefined;
  routes?: z.output<typeof RouteSettingsBody> | undefined;
}) {
  return {
    ...(body.settings !== undefined ? { settings: body.settings } : {}),
    ...(body.field_mapping !== undefined ? { fieldMapping: body.field_mapping } : {}),
    ...(body.enabled_events !== undefined ? { enabledEvents: body.enabled_events } : {}),
    ...(body.time_zone !== undefined ? { timeZone: body.time_zone } : {}),
    ...(body.is_active !== undefined ? { isActive: body.is_active } : {}),
    ...(body.routes !== undefined ? { routes: body.routes } : {}),
  };
}
