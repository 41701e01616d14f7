/**
 * Which tour events make which provider calls, with seed 001's defaults. Pure and deterministic (the
 * tour workflow may call it): every date is computed from the event's own timestamp in the
 * organisation's time zone, never from a clock.
 */
import { EMAIL_TAGS, type Category, type EventReminder, type HubEvent, type HubEventType, type HubPerson, type PlannedAction } from './hub';
import { assertCanonicalKey, assertCanonicalUuids } from './ids';

/** Per-integration options, with seed 001's defaults. */
export interface RouteOptions {
  /** Tour events this integration reacts to; empty means all it has routes for. */
  enabledEvents: readonly string[];
  timeZone: string;
  followUpTaskDays: number;
  abandonedTaskDays: number;
  consultationDaysAfter: number;
  consultationHour: number;
  consultationMinutes: number;
  /** Check-ins are booked at this local hour on their day, for checkInMinutes. */
  checkInHour: number;
  checkInMinutes: number;
  smsWelcomeEnabled: boolean;
  /** Seed 001's `send_immediate_welcome`: the welcome template goes out at once, before the welcome sequence. */
  sendImmediateWelcome: boolean;
  /** Our field names -> the CRM's custom field names. */
  fieldMapping: Record<string, string>;
}

export const DEFAULT_ROUTE_OPTIONS: Omit<RouteOptions, 'timeZone'> = {
  enabledEvents: [],
  followUpTaskDays: 7,
  abandonedTaskDays: 2,
  consultationDaysAfter: 3,
  consultationHour: 14,
  consultationMinutes: 60,
  checkInHour: 10,
  checkInMinutes: 30,
  smsWelcomeEnabled: false,
  sendImmediateWelcome: false,
  fieldMapping: {},
};

/** Seed 001's reminders on every event we book: an email 24 hours before, a popup 15 minutes before. */
export const EVENT_REMINDERS: readonly EventReminder[] = [
  { method: 'email', minutes: 24 * 60 },
  { method: 'popup', minutes: 15 },
];

/**
 * Seed 001's merge fields, by our names (the email connector maps them to the audience's merge tags):
 * when the tour was completed, its rating and duration, and the organisation's plan on completion; where
 * the couple stopped, how far they got and where to resume on re-engagement.
 */
function completionMergeFields(event: HubEvent): Record<string, string> {
  return {
    tourCompletedAt: event.occurredAt.slice(0, 10),
    ...(event.feedback?.rating !== undefined ? { tourRating: String(event.feedback.rating) } : {}),
    ...(event.progress ? { tourMinutes: String(Math.round(event.progress.totalTimeSeconds / 60)) } : {}),
    ...(event.subscriptionTier ? { subscriptionTier: event.subscriptionTier } : {}),
  };
}

function reengagementMergeFields(event: HubEvent): Record<string, string> {
  const p = event.progress;
  return {
    ...(event.resumeUrl ? { resumeUrl: event.resumeUrl } : {}),
    ...(p?.stepKey ? { abandonedStep: p.stepKey } : {}),
    ...(p && p.totalSteps > 0 ? { progressPercent: String(Math.round((Math.min(p.stepIndex, p.totalSteps) / p.totalSteps) * 100)) } : {}),
  };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The calendar date of `iso` in `timeZone`, as YYYY-MM-DD. */
export function localDate(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** A calendar date plus whole days (no time zone involved: dates only). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

/** Wall-clock `date` at `hour`:00 plus `minutes`, as the calendar contract's local `YYYY-MM-DDTHH:mm:ss`. */
function wallClock(date: string, hour: number, minutes = 0): string {
  const total = hour * 60 + minutes;
  const day = addDays(date, Math.floor(total / (24 * 60)));
  const within = total % (24 * 60);
  return `${day}T${pad(Math.floor(within / 60))}:${pad(within % 60)}:00`;
}

function name(person: HubPerson): string {
  return [person.firstName, person.lastName].filter(Boolean).join(' ') || person.email;
}

function enabled(options: RouteOptions, type: HubEventType): boolean {
  return options.enabledEvents.length === 0 || options.enabledEvents.includes(type);
}

/** The calls one integration of `category` makes for `event`, in the order they must happen. */
export function plan(category: Category, event: HubEvent, options: RouteOptions): PlannedAction[] {
  if (!enabled(options, event.type)) return [];
  const who = name(event.person);
  const today = localDate(event.occurredAt, options.timeZone);
  const metadata = { tour_id: event.tourId, progress_id: event.progressId, event_id: event.eventId, source: 'tourhub' };
  switch (category) {
    case 'crm':
      switch (event.type) {
        case 'tour_started':
          return [{ category, method: 'logActivity', input: { person: event.person, type: 'tour_started', title: `Started "${event.tourName}"`, description: `${who} began the onboarding tour "${event.tourName}".`, occurredAt: event.occurredAt, metadata } }];
        case 'tour_completed': {
          const fields: Record<string, string | number | boolean | null> = {};
          const map = (ours: string, value: string | number | boolean | null) => {
            const theirs = options.fieldMapping[ours];
            if (theirs) fields[theirs] = value;
          };
          map('tour_completed_at', event.occurredAt);
          map('tour_name', event.tourName);
          if (event.feedback?.rating !== undefined) map('tour_rating', event.feedback.rating);
          return [
            { category, method: 'logActivity', input: { person: event.person, type: 'tour_completed', title: `Completed "${event.tourName}"`, description: `${who} completed the onboarding tour "${event.tourName}".`, occurredAt: event.occurredAt, metadata } },
            { category, method: 'createTask', input: { person: event.person, title: `Follow up with ${who}`, description: `${who} completed "${event.tourName}": schedule the consultation call.`, dueDate: addDays(today, options.followUpTaskDays), priority: 'normal' } },
            ...(Object.keys(fields).length > 0 ? [{ category, method: 'setCustomFields' as const, input: { person: event.person, fields } }] : []),
          ];
        }
        case 'tour_abandoned':
          return [{ category, method: 'createTask', input: { person: event.person, title: `Reach out to ${who}: tour abandoned`, description: `${who} left "${event.tourName}" unfinished.`, dueDate: addDays(today, options.abandonedTaskDays), priority: 'high' } }];
        case 'feedback_submitted': {
          const f = event.feedback ?? {};
          const lines = [
            `Tour feedback on "${event.tourName}"`,
            ...(f.rating !== undefined ? [`Rating: ${f.rating}/5`] : []),
            ...(f.wasHelpful !== undefined ? [`Helpful: ${f.wasHelpful ? 'yes' : 'no'}`] : []),
            ...(f.feedback ? [f.feedback] : []),
          ];
          return [{ category, method: 'addNote', input: { person: event.person, body: lines.join('\n') } }];
        }
        case 'check_in_due': {
          if (!event.checkIn) return [];
          const { number, of, at } = event.checkIn;
          return [{ category, method: 'createTask', input: { person: event.person, title: `Check-in ${number} of ${of} with ${who}`, description: `${who} completed "${event.tourName}". Check in on how planning is going.`, dueDate: localDate(at, options.timeZone), priority: 'normal' } }];
        }
      }
      return [];
    case 'calendar': {
      if (event.type === 'check_in_due' && event.checkIn) {
        const { number, of, at } = event.checkIn;
        const day = localDate(at, options.timeZone);
        return [{
          category,
          method: 'createEvent',
          input: {
            summary: `Check-in ${number} of ${of} with ${who}`,
            description: `Check-in with ${who} after completing "${event.tourName}".`,
            start: wallClock(day, options.checkInHour),
            end: wallClock(day, options.checkInHour, options.checkInMinutes),
            timeZone: options.timeZone,
            attendees: [{ email: event.person.email, ...(who !== event.person.email ? { name: who } : {}) }],
            reminders: [...EVENT_REMINDERS],
          },
        }];
      }
      if (event.type !== 'tour_completed') return [];
      const day = addDays(today, options.consultationDaysAfter);
      return [{
        category,
        method: 'createEvent',
        input: {
          summary: `Follow-up consultation with ${who}`,
          description: `Follow-up consultation after ${who} completed "${event.tourName}".`,
          start: wallClock(day, options.consultationHour),
          end: wallClock(day, options.consultationHour, options.consultationMinutes),
          timeZone: options.timeZone,
          attendees: [{ email: event.person.email, ...(who !== event.person.email ? { name: who } : {}) }],
          reminders: [...EVENT_REMINDERS],
        },
      }];
    }
    case 'payment':
      if (event.type !== 'tour_completed' || !event.subscriptionInterest) return [];
      return [
        {
          category,
          method: 'recordSubscriptionInterest',
          input: { person: event.person, metadata, plan: event.subscriptionInterest.plan, source: 'tour_completed', occurredAt: event.occurredAt },
        },
      ];
    case 'email':
      if (event.type === 'tour_completed') {
        const email = event.person.email;
        return [
          { category, method: 'upsertSubscriber', input: { person: event.person, mergeFields: completionMergeFields(event) } },
          { category, method: 'addTags', input: { email, tags: [EMAIL_TAGS.onboarded, EMAIL_TAGS.completed] } },
          ...(options.sendImmediateWelcome ? [{ category, method: 'triggerSequence' as const, input: { email, sequence: 'welcome-email' as const } }] : []),
          { category, method: 'triggerSequence', input: { email, sequence: 'welcome' } },
        ];
      }
      // Abandonment itself only reaches the CRM; the email waits for the workflow's re-engagement timer,
      // which a resumed tour cancels.
      if (event.type === 're_engagement_due') {
        return [
          { category, method: 'upsertSubscriber', input: { person: event.person, mergeFields: reengagementMergeFields(event) } },
          { category, method: 'addTags', input: { email: event.person.email, tags: [EMAIL_TAGS.abandoned] } },
          { category, method: 'triggerSequence', input: { email: event.person.email, sequence: 're-engagement' } },
        ];
      }
      return [];
    case 'sms':
      if (event.type !== 'tour_completed' || !options.smsWelcomeEnabled || !event.person.phone) return [];
      return [{ category, method: 'sendMessage', input: { to: event.person.phone, body: `Welcome aboard, ${event.person.firstName ?? 'and congratulations'}! Your wedding dashboard is ready.` } }];
  }
}

/** Why a route the event calls for is not taken: the member lacks what the provider needs. */
export const SKIP_REASONS = {
  no_email: 'The member has no email address, which this provider matches contacts by: add one with PUT /api/members/{userId}',
  no_phone: 'The member has no phone number to text: add one with PUT /api/members/{userId}',
} as const;
export type SkipReason = keyof typeof SKIP_REASONS;

/** Placeholders that let a route be planned to see what it would do; never sent anywhere. */
const PROBE = { email: 'missing@invalid', phone: '+10000000000' };

/**
 * The calls one integration makes for `event`, and those it would make but cannot for want of the
 * member's email (every category but SMS matches people by it) or phone (SMS). `index` is each call's
 * place in its list: skipped calls get keys of their own, never one a sent call could have.
 */
export function planRoute(category: Category, event: HubEvent, options: RouteOptions): { actions: PlannedAction[]; skipped: { action: PlannedAction; index: number; reason: SkipReason }[] } {
  const hasEmail = event.person.email !== '';
  const hasPhone = event.person.phone !== undefined && event.person.phone !== '';
  const needs = (a: PlannedAction): SkipReason | null => (a.category === 'sms' ? (hasPhone ? null : 'no_phone') : hasEmail ? null : 'no_email');
  if (hasEmail && hasPhone) return { actions: plan(category, event, options), skipped: [] };
  const probe = { ...event, person: { ...event.person, email: hasEmail ? event.person.email : PROBE.email, phone: hasPhone ? event.person.phone : PROBE.phone } };
  const skipped = plan(category, probe, options)
    .map((action, index) => ({ action, index, reason: needs(action) }))
    .filter((s): s is { action: PlannedAction; index: number; reason: SkipReason } => s.reason !== null);
  const actions = plan(category, event, options).filter((a) => needs(a) === null);
  return { actions, skipped };
}

/**
 * The key a provider sees for one planned call: stable across retries, replays and workers. Built from
 * canonical ids only (the event id from the workflow id), or the same call could go out under two keys.
 */
export function idempotencyKey(eventId: string, integrationId: string, method: string, index: number): string {
  assertCanonicalKey('idempotencyKey', eventId);
  assertCanonicalUuids('idempotencyKey', { integrationId });
  return `${eventId}:${integrationId}:${index}:${method}`;
}

/** An integration's stored settings, as far as routing reads them (snake_case, as the API takes them). */
export interface StoredRouteSettings {
  enabled_events?: readonly string[];
  field_mapping?: Record<string, string>;
  time_zone?: string;
  routes?: {
    follow_up_task_days?: number;
    abandoned_task_days?: number;
    consultation_days_after?: number;
    consultation_hour?: number;
    consultation_minutes?: number;
    check_in_hour?: number;
    check_in_minutes?: number;
    sms_welcome_enabled?: boolean;
    send_immediate_welcome?: boolean;
  };
}

/** The options one integration routes with: its overrides over seed 001's defaults. */
export function routeOptions(settings: StoredRouteSettings, orgTimeZone: string): RouteOptions {
  const r = settings.routes ?? {};
  const d = DEFAULT_ROUTE_OPTIONS;
  return {
    enabledEvents: settings.enabled_events ?? d.enabledEvents,
    timeZone: settings.time_zone ?? orgTimeZone,
    followUpTaskDays: r.follow_up_task_days ?? d.followUpTaskDays,
    abandonedTaskDays: r.abandoned_task_days ?? d.abandonedTaskDays,
    consultationDaysAfter: r.consultation_days_after ?? d.consultationDaysAfter,
    consultationHour: r.consultation_hour ?? d.consultationHour,
    consultationMinutes: r.consultation_minutes ?? d.consultationMinutes,
    checkInHour: r.check_in_hour ?? d.checkInHour,
    checkInMinutes: r.check_in_minutes ?? d.checkInMinutes,
    smsWelcomeEnabled: r.sms_welcome_enabled ?? d.smsWelcomeEnabled,
    sendImmediateWelcome: r.send_immediate_welcome ?? d.sendImmediateWelcome,
    fieldMapping: settings.field_mapping ?? d.fieldMapping,
  };
}
