import type { SmsStatus } from '../../contracts';

/**
 * Pure translation between our shapes and Twilio's Programmable Messaging REST API (2010-04-01).
 * No I/O; the clock arrives as an argument. Reference:
 * https://www.twilio.com/docs/messaging/api/message-resource
 */

/** `Body` holds at most 1,600 characters (the Message resource's create parameters). */
export const BODY_MAX = 1600;

export const API_VERSION = '2010-04-01';

/** Where the message comes from: one sender, or a Messaging Service that picks one from its pool. */
export type Sender = { from: string; messagingServiceSid?: undefined } | { messagingServiceSid: string; from?: undefined };

export interface TwilioMessage {
  sid: string;
  status: string;
  body?: string | null;
  to?: string | null;
  from?: string | null;
  direction?: string | null;
  messaging_service_sid?: string | null;
  date_created?: string | null;
  date_sent?: string | null;
  error_code?: number | null;
}

const STATUS: Record<string, SmsStatus> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'sending',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  canceled: 'failed',
};

/** Twilio's message status -> ours; statuses of inbound messages and anything new become 'unknown'. */
export function smsStatus(status: string | null | undefined): SmsStatus {
  return (status && STATUS[status]) || 'unknown';
}

/** The form of POST /Accounts/{AccountSid}/Messages.json. */
export function messageForm(input: { to: string; body: string }, sender: Sender, statusCallbackUrl?: string): Record<string, string> {
  return {
    To: input.to,
    ...(sender.messagingServiceSid ? { MessagingServiceSid: sender.messagingServiceSid } : { From: sender.from! }),
    Body: input.body,
    ...(statusCallbackUrl ? { StatusCallback: statusCallbackUrl } : {}),
  };
}

/** How far back a crashed send is looked for: long enough for Temporal's retries, short enough to rarely meet a genuine repeat. */
export const RECONCILE_WINDOW_MS = 24 * 60 * 60 * 1000;

function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * The query of GET /Accounts/{AccountSid}/Messages.json that finds an earlier send to this recipient:
 * To, From (Twilio has no filter on the Messaging Service, which is matched afterwards) and
 * `DateSent>=` the UTC day the window starts on, so a crash just before midnight UTC is still found.
 */
export function reconcileQuery(to: string, sender: Sender, now: number): Record<string, string> {
  return {
    To: to,
    ...(sender.from ? { From: sender.from } : {}),
    'DateSent>': utcDate(now - RECONCILE_WINDOW_MS),
    PageSize: '50',
  };
}

/** An outbound message with exactly this body, to this recipient, from our sender, created within the window. */
export function findEarlierSend(
  messages: TwilioMessage[],
  input: { to: string; body: string },
  sender: Sender,
  now: number,
): TwilioMessage | undefined {
  return messages.find((m) => {
    if (m.body !== input.body || m.to !== input.to) return false;
    if (!m.direction?.startsWith('outbound')) return false;
    if (sender.messagingServiceSid ? m.messaging_service_sid !== sender.messagingServiceSid : m.from !== sender.from) return false;
    const created = m.date_created ? Date.parse(m.date_created) : NaN;
    return Number.isNaN(created) || created >= now - RECONCILE_WINDOW_MS;
  });
}
