import type { HubPerson } from '../domain/hub';

/**
 * One interface per category. A connector gets its settings, credentials, an HTTP client with a
 * timeout and an idempotency key per write; it never reads the environment, the database or the clock.
 * Every method throws only ConnectorError (see errors.ts).
 */

/** Passed to every write. Derived by the caller from the tour event id and the route, so it never changes across retries. */
export interface WriteOptions {
  idempotencyKey: string;
}

/** The person a tour event is about, as the CRM, email and payment providers need them. */
export type Person = HubPerson;

export type TaskPriority = 'low' | 'normal' | 'high';

export interface CrmConnector {
  /** Creates the contact or updates the one with this email; returns the provider's contact id. */
  upsertContact(person: Person, opts: WriteOptions): Promise<{ contactId: string }>;
  /** Records something that happened (tour started, completed) on the contact's timeline. */
  logActivity(
    input: { person: Person; contactId?: string; type: string; title: string; description: string; occurredAt: string; metadata?: Record<string, string | number | boolean> },
    opts: WriteOptions,
  ): Promise<{ activityId: string | null }>;
  /** A to-do for the planner, e.g. "follow up in 7 days". `dueDate` is YYYY-MM-DD in the organisation's time zone. */
  createTask(
    input: { person: Person; contactId?: string; title: string; description?: string; dueDate: string; priority: TaskPriority },
    opts: WriteOptions,
  ): Promise<{ taskId: string | null }>;
  /** Writes custom fields (mapped names, from the integration's settings) on the contact. */
  setCustomFields(
    input: { person: Person; contactId?: string; fields: Record<string, string | number | boolean | null> },
    opts: WriteOptions,
  ): Promise<void>;
  /** A free-text note, e.g. the couple's tour feedback. */
  addNote(input: { person: Person; contactId?: string; body: string }, opts: WriteOptions): Promise<{ noteId: string | null }>;
  /** The cheapest authenticated read, for "test this integration". */
  ping(): Promise<void>;
}

export interface CalendarEventInput {
  summary: string;
  description?: string;
  /** Local wall-clock time, `YYYY-MM-DDTHH:mm:ss`, interpreted in `timeZone`. */
  start: string;
  end: string;
  /** IANA zone, e.g. America/New_York. */
  timeZone: string;
  attendees: { email: string; name?: string }[];
  location?: string;
}

/** A change-notification channel on a calendar: a Google watch channel or a Microsoft Graph subscription. */
export interface ChangeChannel {
  /** Google: the id we chose; Graph: the subscription's id. */
  channelId: string;
  /** Google's id of the watched resource (needed to stop the channel). */
  resourceId?: string;
  /** What is watched, as the provider names it. */
  resource: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface WatchInput {
  /** Where the provider posts notifications (https, this API's public URL). */
  address: string;
  /** Echoed back on every notification (Google's channel token, Graph's clientState): our proof it is the provider. */
  token: string;
  /** A new unique id (Google takes ours; Graph makes its own). */
  channelId: string;
  /** How long to ask for; the provider may grant less (Graph caps calendar events near 3 days). */
  ttlMs: number;
}

export interface CalendarConnector {
  /** Creates the event once per key: a retry with the same key returns the same event. */
  createEvent(input: CalendarEventInput, opts: WriteOptions): Promise<{ eventId: string }>;
  /** Replaces the event's time, text and attendees. `eventId` is what createEvent returned. */
  updateEvent(eventId: string, input: CalendarEventInput, opts: WriteOptions): Promise<{ eventId: string }>;
  /** Cancels the event and notifies attendees; cancelling an already-cancelled or missing event succeeds. */
  cancelEvent(eventId: string, opts: WriteOptions): Promise<void>;
  ping(): Promise<void>;
  /** Asks for change notifications on the calendar's events (providers that push them). */
  watch?(input: WatchInput): Promise<ChangeChannel>;
  /** Extends a channel in place, where the provider allows it (Graph); otherwise a new one is made. */
  renewWatch?(channel: ChangeChannel, ttlMs: number): Promise<{ expiresAt: number }>;
  /** Ends a channel; one already gone is fine. */
  stopWatch?(channel: ChangeChannel): Promise<void>;
}

export interface PaymentConnector {
  /** Finds the customer by email or creates one; returns the provider's customer id. */
  upsertCustomer(
    input: { person: Person; metadata?: Record<string, string> },
    opts: WriteOptions,
  ): Promise<{ customerId: string }>;
  /** Records that the couple showed interest in a plan (as customer metadata; no charge, no subscription). */
  recordSubscriptionInterest(
    input: { customerId: string; plan: string; source: string; occurredAt: string },
    opts: WriteOptions,
  ): Promise<void>;
  ping(): Promise<void>;
}

export interface EmailConnector {
  /** Adds the subscriber to the configured audience or updates them. */
  upsertSubscriber(
    input: { person: Person; mergeFields?: Record<string, string | number> },
    opts: WriteOptions,
  ): Promise<{ subscriberId: string }>;
  addTags(input: { email: string; tags: string[] }, opts: WriteOptions): Promise<void>;
  removeTags(input: { email: string; tags: string[] }, opts: WriteOptions): Promise<void>;
  /** Starts an automation (Mailchimp: a Customer Journey step) for the subscriber. */
  triggerSequence(input: { email: string; sequence: string }, opts: WriteOptions): Promise<void>;
  ping(): Promise<void>;
}

export type SmsStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'unknown';

export interface SmsConnector {
  /** Sends once per key: the provider has no idempotency key, so a DeliveryGuard record is checked first. */
  sendMessage(input: { to: string; body: string }, opts: WriteOptions): Promise<{ messageId: string; status: SmsStatus }>;
  getDeliveryStatus(messageId: string): Promise<{ status: SmsStatus; errorCode?: string }>;
  ping(): Promise<void>;
}

/** The contract of each category (domain/hub.ts `Category`). */
export interface CategoryConnectors {
  crm: CrmConnector;
  calendar: CalendarConnector;
  payment: PaymentConnector;
  email: EmailConnector;
  sms: SmsConnector;
}

/**
 * For providers with no idempotency key (Twilio, HoneyBook's catch hooks, Light Blue): what earlier
 * attempts with a key did. Backed by integration_deliveries in production, memory in tests.
 */
export interface DeliveryGuard {
  find(key: string): Promise<{ state: 'attempted' | 'sent'; reference?: string } | null>;
  /** Written before the call, so a crash mid-call is known on the retry. */
  markAttempted(key: string): Promise<void>;
  markSent(key: string, reference: string): Promise<void>;
}

export interface OAuthTokens {
  accessToken: string;
  refreshToken?: string;
  /** Epoch milliseconds. */
  expiresAt?: number;
  scope?: string;
}

/**
 * An integration's OAuth tokens: refreshed before expiry or after a 401, concurrent refreshes collapse
 * into one, and new tokens are written back (encrypted) by whoever owns the session.
 */
export interface OAuthSession {
  accessToken(): Promise<string>;
  /** Refreshes unless someone already did since `staleToken` was handed out; returns the current token. */
  refresh(staleToken: string): Promise<string>;
}
