import type { SyncFields } from '../domain/conflict';
import type { EventReminder, HubPerson } from '../domain/hub';

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
  /** Contacts changed since a cursor (providers two-way sync covers). Fields: first_name, last_name, phone, and `custom:<name>` and `custom:<token>` (lower case) per custom field value. */
  listChanges?: ChangeReader['listChanges'];
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
  /** Reminders for whoever the calendar reminds (the organiser's copy); absent: the calendar's defaults. */
  reminders?: EventReminder[];
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
  /** Events changed since a cursor, keyed by event id. Fields: start, end (UTC, `YYYY-MM-DDTHH:mm:ssZ`), summary, cancelled. */
  listChanges?: ChangeReader['listChanges'];
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
  /** Customers changed since a cursor, keyed by email. Fields: name, phone, user_id (our metadata). */
  listChanges?: ChangeReader['listChanges'];
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
  /** Members changed since a cursor, keyed by email. Fields: first_name, last_name, `tag:<name>` (true). */
  listChanges?: ChangeReader['listChanges'];
}

export type SmsStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'unknown';

export interface SmsConnector {
  /** Sends once per key: the provider has no idempotency key, so a DeliveryGuard record is checked first. */
  sendMessage(input: { to: string; body: string }, opts: WriteOptions): Promise<{ messageId: string; status: SmsStatus }>;
  getDeliveryStatus(messageId: string): Promise<{ status: SmsStatus; errorCode?: string }>;
  ping(): Promise<void>;
}

/**
 * A provider's record as two-way sync compares it: keyed the way we find it (a lower-cased email, an
 * event id), its fields in our names and normalised (domain/conflict.ts compares them with ours), and
 * when the provider says it last changed.
 */
export interface RemoteRecord {
  key: string;
  /** The provider's own id of the record. */
  remoteId: string;
  fields: SyncFields;
  /** ISO; null when the provider does not say. */
  updatedAt: string | null;
}

/** One page of what changed at the provider. */
export interface ChangePage {
  records: RemoteRecord[];
  /** Where the next page starts; absent on the last page. */
  nextPage?: string;
  /** On the last page: where the next pass starts (a sync token, a delta link, a time). */
  cursor?: string;
}

export interface ChangeQuery {
  /** The cursor of the last pass; absent for a full pass (every record). */
  cursor?: string;
  /** The previous page's `nextPage`. */
  page?: string;
  /** At most this many records per page (providers cap it lower). */
  pageSize: number;
  /** Epoch ms when this pass started: time-based cursors are taken from it, not from the clock. */
  startedAt: number;
}

/**
 * Reading what changed, for the providers two-way sync covers. One page per call, so the caller holds
 * one page at a time whatever the account's size. A cursor the provider no longer honours (Google's 410,
 * an events window that expired) throws ConnectorError `cursor_expired`: the caller starts a full pass.
 */
export interface ChangeReader {
  listChanges(query: ChangeQuery): Promise<ChangePage>;
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
