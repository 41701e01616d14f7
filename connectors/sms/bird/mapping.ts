import { createHash } from 'node:crypto';
import type { SmsStatus } from '../../contracts';

/**
 * Bird (formerly MessageBird) Channels API, https://docs.bird.com/api/channels-api: a message is sent on
 * an SMS channel installed in a workspace. Pure.
 */

export const BIRD_BASE_URL = 'https://api.bird.com';
export const BIRD_HOSTS = ['api.bird.com'];

/** We cap the text at 1,600 characters (ten concatenated parts); Bird states no lower limit for SMS text. */
export const TEXT_MAX = 1600;

/** Our idempotency key as the message `reference` Bird stores and returns: hex SHA-256, the same on every retry. */
export function reference(idempotencyKey: string): string {
  return `tourhub-${createHash('sha256').update(idempotencyKey, 'utf8').digest('hex').slice(0, 40)}`;
}

export interface BirdMessageBody {
  receiver: { contacts: { identifierKey: 'phonenumber'; identifierValue: string }[] };
  body: { type: 'text'; text: { text: string } };
  reference: string;
}

/** POST /workspaces/{workspaceId}/channels/{channelId}/messages. */
export function messageBody(input: { to: string; body: string }, ref: string): BirdMessageBody {
  return {
    receiver: { contacts: [{ identifierKey: 'phonenumber', identifierValue: input.to }] },
    body: { type: 'text', text: { text: input.body } },
    reference: ref,
  };
}

export interface BirdMessage {
  id?: string;
  status?: string;
  reference?: string;
  reason?: string;
  receiver?: { contacts?: { identifierValue?: string }[] };
}

const STATUS: Record<string, SmsStatus> = {
  accepted: 'queued',
  processing: 'queued',
  scheduled: 'queued',
  sending: 'sending',
  sent: 'sent',
  delivered: 'delivered',
  sending_failed: 'failed',
  delivery_failed: 'undelivered',
  deleted: 'failed',
};

export function smsStatus(status: string | undefined): SmsStatus {
  return (status && STATUS[status]) || 'unknown';
}

export function channelPath(workspaceId: string, channelId: string): string {
  return `workspaces/${encodeURIComponent(workspaceId)}/channels/${encodeURIComponent(channelId)}`;
}
