/**
 * The hub's vocabulary, shared by the tour workflow, the activities that plan and make provider calls,
 * and the connectors that receive them: which events reach the hub, what one call is, and the settings
 * a tour's deliveries and timers run with. Types and constants only.
 */
import type { FollowUpSettings } from './follow-ups';

/**
 * The four transitions seed 001 routes, plus the two the workflow's timers raise: the re-engagement
 * email 24 hours after abandonment, and each check-in of the series booked after completion.
 */
export const HUB_EVENT_TYPES = ['tour_started', 'tour_completed', 'tour_abandoned', 'feedback_submitted', 're_engagement_due', 'check_in_due'] as const;
export type HubEventType = (typeof HUB_EVENT_TYPES)[number];

/**
 * The events a restart loop repeats at will (start with `restart: true`, then complete): their effects go
 * to an integration at most once per tour and couple within HUB_SUPPRESS_REPEATS_WITHIN; the repeats are
 * recorded as suppressed instead of sent, so a member cannot make the planner pay for a fresh round of
 * tasks, invitations, emails and texts on every loop. A check-in counts per number of the series: each
 * completion books the series again, and its first check-in (booked HUB_CHECK_IN_LEAD ahead) can fall
 * due at once, so a loop would otherwise send a calendar invite and a task every time.
 */
export const ONCE_PER_WINDOW_EVENTS: readonly HubEventType[] = ['tour_started', 'tour_completed', 'check_in_due'];

/** The kinds of tool an organisation connects; each has one connector contract (connectors/contracts.ts). */
export type Category = 'crm' | 'calendar' | 'payment' | 'email' | 'sms';

export interface HubPerson {
  email: string;
  firstName?: string;
  lastName?: string;
  phone?: string;
  /** Our user id, stored on the provider's record where it has a place for it. */
  externalId?: string;
  weddingDate?: string;
}

/** One thing that happened to one person's tour, as the connectors learn about it. */
export interface HubEvent {
  /** `{workflowId}:{sequence}`: never changes across retries and replays. */
  eventId: string;
  type: HubEventType;
  orgId: string;
  userId: string;
  tourId: string;
  tourName: string;
  progressId: string;
  /** ISO timestamp of the transition. */
  occurredAt: string;
  person: HubPerson;
  feedback?: { rating?: number; feedback?: string; wasHelpful?: boolean };
  /** Where the couple resumes an abandoned tour (re-engagement email). */
  resumeUrl?: string;
  /** Set when the completion says the couple is interested in a paid plan. */
  subscriptionInterest?: { plan: string };
  /** check_in_due only: which check-in of the series, and when it takes place (ISO). */
  checkIn?: { number: number; of: number; at: string };
  /** Where the couple's tour stood when the event was planned: the email merge fields of seed 001. */
  progress?: HubProgress;
  /** The organisation's plan (seed 001's `subscription_tier` merge field). */
  subscriptionTier?: string;
}

export interface HubProgress {
  totalTimeSeconds: number;
  /** Zero-based index of the step the couple is on (or left the tour at). */
  stepIndex: number;
  totalSteps: number;
  /** The key of that step, e.g. `guest_list`. */
  stepKey?: string;
}

/** A reminder on an event we book: seed 001 asks for an email a day before and a popup 15 minutes before. */
export interface EventReminder {
  method: 'email' | 'popup';
  minutes: number;
}

/** A calendar event as planned: local wall-clock times in `timeZone`. */
export interface PlannedEvent {
  summary: string;
  description: string;
  start: string;
  end: string;
  timeZone: string;
  attendees: { email: string; name?: string }[];
  /** Absent on calls planned before reminders were routed (their sealed rows replay as they were). */
  reminders?: EventReminder[];
}

/** A provider call to make: the connector method and its input, minus the idempotency key. */
export type PlannedAction =
  | { category: 'crm'; method: 'logActivity'; input: { person: HubPerson; type: string; title: string; description: string; occurredAt: string; metadata: Record<string, string> } }
  | { category: 'crm'; method: 'createTask'; input: { person: HubPerson; title: string; description: string; dueDate: string; priority: 'normal' | 'high' } }
  | { category: 'crm'; method: 'setCustomFields'; input: { person: HubPerson; fields: Record<string, string | number | boolean | null> } }
  | { category: 'crm'; method: 'addNote'; input: { person: HubPerson; body: string } }
  /** Two-way sync: the contact as ours says, created or updated by email. */
  | { category: 'crm'; method: 'upsertContact'; input: { person: HubPerson } }
  | { category: 'calendar'; method: 'createEvent'; input: PlannedEvent }
  /** Two-way sync and conflict resolutions: the whole event as it should now be. */
  | { category: 'calendar'; method: 'updateEvent'; input: { eventId: string; event: PlannedEvent } }
  /** Upserts the customer, then records the interest on it: one delivery, since the second needs the first's id. */
  | { category: 'payment'; method: 'recordSubscriptionInterest'; input: { person: HubPerson; metadata: Record<string, string>; plan: string; source: string; occurredAt: string } }
  /** Two-way sync: the customer linked to the couple (metadata), found by email or created. */
  | { category: 'payment'; method: 'upsertCustomer'; input: { person: HubPerson; metadata: Record<string, string> } }
  | { category: 'email'; method: 'upsertSubscriber'; input: { person: HubPerson; mergeFields: Record<string, string> } }
  | { category: 'email'; method: 'addTags'; input: { email: string; tags: string[] } }
  | { category: 'email'; method: 'triggerSequence'; input: { email: string; sequence: EmailSequence } }
  | { category: 'sms'; method: 'sendMessage'; input: { to: string; body: string } };

/**
 * The sequences the email routes start: `welcome` (seed 001's welcome sequence), `welcome-email` (its
 * immediate welcome template, when the integration asks for it), `re-engagement`.
 */
export type EmailSequence = 'welcome' | 'welcome-email' | 're-engagement';

/** Seed 001's tags: who finished onboarding, and who left their tour. */
export const EMAIL_TAGS = { onboarded: 'wedsync-onboarded', completed: 'tour-completed', abandoned: 'tour-abandoned' } as const;

/** What the workflow knows of one hub event; planning adds who it is about and where it goes. */
export interface HubEventDraft {
  eventId: string;
  type: HubEventType;
  occurredAt: string;
  feedback?: HubEvent['feedback'];
  subscriptionInterest?: HubEvent['subscriptionInterest'];
  checkIn?: HubEvent['checkIn'];
}

/** One provider call, as the deliver activity takes it: the action, its event and its idempotency key. */
export interface DeliveryInput {
  workflowId: string;
  eventId: string;
  eventType: string;
  integrationId: string;
  idempotencyKey: string;
  action: PlannedAction;
}

/** One provider call to make, and what the workflow needs to run it on the right queue. */
export interface PlannedDelivery extends DeliveryInput {
  provider: string;
  category: Category;
}

/** How one delivery retries (HUB_RETRY_*): Temporal's retry policy for it, and its time limits. */
export interface DeliveryRetry {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  maximumAttempts: number;
  /** The whole delivery, retries included: past this it is dead and waits for a replay. */
  maximumTimeMs: number;
  /** How long one attempt may run: a worker that died mid-call is noticed after this. */
  attemptTimeoutMs: number;
}

/** How a tour's deliveries retry and when its timers fire: the worker's config, read when the tour loads. */
export interface HubSettings extends FollowUpSettings {
  retry: DeliveryRetry;
}
