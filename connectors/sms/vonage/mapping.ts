import { createHash } from 'node:crypto';
import type { SmsStatus } from '../../contracts';
import { ConnectorError } from '../../errors';

/**
 * Vonage's SMS API (https://developer.vonage.com/en/api/sms) to send, and its Reports API
 * (https://developer.vonage.com/en/api/reports, synchronous records) to read a message's status. Pure.
 */

export const SMS_BASE_URL = 'https://rest.nexmo.com';
export const REPORTS_BASE_URL = 'https://api.nexmo.com';
export const VONAGE_HOSTS = ['rest.nexmo.com', 'api.nexmo.com'];
const PROVIDER = 'vonage';

/**
 * `text` is split into concatenated parts by Vonage; we cap it at 1,000 characters (the limit the Messages
 * API states for SMS text) so a long note can never make a message fail. `client-ref` is at most 40 characters.
 */
export const TEXT_MAX = 1000;
export const CLIENT_REF_MAX = 40;

/** Our idempotency key as a 40-character client reference (hex SHA-1): the same on every retry. */
export function clientRef(idempotencyKey: string): string {
  return createHash('sha1').update(idempotencyKey, 'utf8').digest('hex').slice(0, CLIENT_REF_MAX);
}

/** GSM-7's basic set; anything else needs `type=unicode` or Vonage replaces it. */
const GSM7 = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\[~\]|€]*$/;

/** The form of POST /sms/json. `to` is E.164 without the plus. */
export function smsForm(creds: { apiKey: string; apiSecret: string }, input: { digits: string; body: string }, from: string, ref: string): Record<string, string> {
  return {
    api_key: creds.apiKey,
    api_secret: creds.apiSecret,
    from,
    to: input.digits,
    text: input.body,
    'client-ref': ref,
    ...(GSM7.test(input.body) ? {} : { type: 'unicode' }),
  };
}

export interface VonageSmsResponse {
  'message-count'?: string;
  messages?: { status?: string; 'message-id'?: string; 'error-text'?: string; to?: string }[];
}

/**
 * The SMS API answers 200 with a status per message (https://developer.vonage.com/en/api-errors/sms):
 * 0 is accepted; 1 (throttled) and 5 (internal error) are worth retrying; 4 and 8 are credentials or a
 * barred account; 9 is no credit; everything else is a request that will not succeed as it is.
 */
export function smsResult(body: VonageSmsResponse | undefined): string {
  const message = body?.messages?.[0];
  if (!message || typeof message.status !== 'string') {
    throw new ConnectorError({ code: 'unexpected_response', retryable: false, provider: PROVIDER, message: 'Vonage answered without a message status' });
  }
  if (message.status === '0') {
    if (!message['message-id']) throw new ConnectorError({ code: 'unexpected_response', retryable: false, provider: PROVIDER, message: 'Vonage accepted the message without an id' });
    return message['message-id'];
  }
  throw statusError(message.status, message['error-text']);
}

export function statusError(status: string, text: string | undefined): ConnectorError {
  const detail = `Vonage refused the message (status ${status})${text ? `: ${text.slice(0, 200)}` : ''}`;
  switch (status) {
    case '1':
      return new ConnectorError({ code: 'rate_limited', retryable: true, provider: PROVIDER, message: detail });
    case '5':
      return new ConnectorError({ code: 'provider_unavailable', retryable: true, provider: PROVIDER, message: detail });
    case '4':
      return new ConnectorError({ code: 'unauthorized', retryable: false, provider: PROVIDER, message: detail });
    case '8':
    case '9':
      return new ConnectorError({ code: 'forbidden', retryable: false, provider: PROVIDER, message: detail });
    default:
      return new ConnectorError({ code: 'bad_request', retryable: false, provider: PROVIDER, message: detail });
  }
}

export interface VonageRecord {
  message_id?: string;
  client_ref?: string;
  status?: string;
  error_code?: string | number | null;
  to?: string;
}

const STATUS: Record<string, SmsStatus> = {
  accepted: 'queued',
  buffered: 'queued',
  submitted: 'sent',
  delivered: 'delivered',
  expired: 'undelivered',
  failed: 'failed',
  rejected: 'failed',
  deleted: 'failed',
};

export function smsStatus(status: string | undefined): SmsStatus {
  return (status && STATUS[status.toLowerCase()]) || 'unknown';
}

/** How far back a crashed send is looked for in the Reports API. */
export const RECONCILE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** GET /v2/reports/records: this account's outbound SMS to `digits` in the window, to find our client ref. */
export function reconcileQuery(accountId: string, digits: string, now: number): Record<string, string> {
  return {
    account_id: accountId,
    product: 'SMS',
    direction: 'outbound',
    date_start: new Date(now - RECONCILE_WINDOW_MS).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    date_end: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    to: digits,
  };
}
