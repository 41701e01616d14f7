/**
 * Webhooks in both directions, as pure rules: which outbound events exist and which a subscription's
 * filter takes, and what each inbound tour event of seed 001 means for the tour's workflow.
 */
import type { HubEventType } from './hub';
import type { AdvanceCommand, DeviceType, Feedback, StartCommand } from './tour-state';

/**
 * What an organisation can subscribe to. Tour events are written by the tour's planning step;
 * integration and alert events by the hub's health, breaker and deliveries; sync.* by two-way sync;
 * webhook.* by the webhooks themselves.
 * The outbox may carry types added later: a subscription to `*` or `prefix.*` receives them too.
 */
export const OUTBOUND_EVENT_TYPES = [
  'tour.started',
  'tour.completed',
  'tour.abandoned',
  'feedback.submitted',
  'tour.onboarding_completed',
  'integration.degraded',
  'integration.paused',
  'integration.recovered',
  'integration.failure',
  'sync.conflict',
  'webhook.subscription_paused',
] as const;
export type OutboundEventType = (typeof OUTBOUND_EVENT_TYPES)[number];

/** The outbound type of each hub event that organisations hear about (the timers' own events stay inside). */
export const OUTBOUND_TYPE_OF_HUB_EVENT: Partial<Record<HubEventType, OutboundEventType>> = {
  tour_started: 'tour.started',
  tour_completed: 'tour.completed',
  tour_abandoned: 'tour.abandoned',
  feedback_submitted: 'feedback.submitted',
};

/**
 * A filter entry: an event type, `group.*` (every type starting `group.`), or `*`. Returns the entries
 * that name nothing we send, so a typo is refused when saved rather than silently never matching.
 */
export function unknownFilterEntries(filter: readonly string[]): string[] {
  const known = new Set<string>(OUTBOUND_EVENT_TYPES);
  const groups = new Set(OUTBOUND_EVENT_TYPES.map((t) => `${t.split('.')[0]}.*`));
  return filter.filter((f) => f !== '*' && !known.has(f) && !groups.has(f));
}

export function filterMatches(filter: readonly string[], eventType: string): boolean {
  return filter.some((f) => f === '*' || f === eventType || (f.endsWith('.*') && eventType.startsWith(f.slice(0, -1))));
}

/**
 * Events that must reach a subscriber in the order they were written: one tour run's (its workflow id),
 * else one subject's (an integration's degraded before its recovered), else the organisation's.
 */
export function orderingKeyOf(event: { ordering_key: string | null; subject_id: string | null }): string {
  return event.ordering_key ?? (event.subject_id ? `subject:${event.subject_id}` : 'organization');
}

/** The Standard Webhooks body: the type, when it happened, and the event's own data. */
export function outboundBody(event: { event_type: string; created_at: Date | string; payload: Record<string, unknown> }): string {
  const timestamp = event.created_at instanceof Date ? event.created_at.toISOString() : new Date(event.created_at).toISOString();
  return JSON.stringify({ type: event.event_type, timestamp, data: event.payload });
}

// ------------------------------------------------------------------------------------------------
// Inbound tour events (seed 001: POST /api/webhooks/tour-events)

/** The seed's event types this hub acts on; `user_feedback` alone has no move to ride on (see below). */
export const INBOUND_TOUR_EVENT_TYPES = ['tour_started', 'step_completed', 'step_skipped', 'tour_completed', 'tour_abandoned'] as const;
export type InboundTourEventType = (typeof INBOUND_TOUR_EVENT_TYPES)[number];

export interface InboundTourEventData {
  step_index?: number;
  step_key?: string;
  device_type?: DeviceType;
  restart?: boolean;
  rating?: number;
  feedback?: string;
  was_helpful?: boolean;
}

/** What an inbound tour event asks of the tour's workflow: a start, or a move. */
export type InboundTourCommand = { kind: 'start'; args: Omit<StartCommand, 'kind'> } | { kind: 'advance'; args: Omit<AdvanceCommand, 'kind'> };

/**
 * The seed's events as moves of the state machine, from the app's backend rather than the couple's
 * browser: a step completed is `next_step` (on the step it names, when it names one), a skipped step
 * `skip_step`, a completed tour `complete_tour` (with its feedback), an abandoned one `abandon_tour`.
 * The workflow rules on each exactly as on the same move from the API.
 */
export function inboundTourCommand(type: InboundTourEventType, data: InboundTourEventData): InboundTourCommand {
  const at = { ...(data.step_index !== undefined ? { stepIndex: data.step_index } : {}), ...(data.step_key !== undefined ? { stepKey: data.step_key } : {}) };
  switch (type) {
    case 'tour_started':
      return { kind: 'start', args: { ...(data.device_type ? { deviceType: data.device_type } : {}), ...(data.restart ? { restart: true } : {}) } };
    case 'step_completed':
      return { kind: 'advance', args: { action: 'next_step', ...at } };
    case 'step_skipped':
      return { kind: 'advance', args: { action: 'skip_step', ...at } };
    case 'tour_completed': {
      const feedback: Feedback = {
        ...(data.rating !== undefined ? { rating: data.rating } : {}),
        ...(data.feedback !== undefined ? { feedback: data.feedback } : {}),
        ...(data.was_helpful !== undefined ? { wasHelpful: data.was_helpful } : {}),
      };
      return { kind: 'advance', args: { action: 'complete_tour', ...(Object.keys(feedback).length > 0 ? { feedback } : {}) } };
    }
    case 'tour_abandoned':
      return { kind: 'advance', args: { action: 'abandon_tour' } };
  }
}
