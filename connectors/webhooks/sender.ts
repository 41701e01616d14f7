import { Webhook } from 'standardwebhooks';
import { ConnectorError } from '../errors';
import type { VendorHttp } from '../http';
import type { HostPattern } from '../outbound';

/**
 * Outbound webhooks to the URLs organisations subscribe, signed per the Standard Webhooks specification
 * (https://www.standardwebhooks.com) by its reference library, and sent through the guarded HTTP layer
 * like any provider call: https only, the address checked after DNS (no loopback, private, link-local
 * or metadata ranges unless the deployment allows the network), no redirects, a capped answer, a
 * timeout. No credentials travel: the signature is the proof, so any public host may be subscribed.
 */

/** The name guard refusals and errors carry. */
export const WEBHOOK_SENDER = 'webhooks';

/** Any host (with its port): a subscriber's URL is theirs to choose; the address rules still apply. */
export const WEBHOOK_HOSTS: readonly HostPattern[] = [/^[^\s/?#@]+$/];

export interface OutboundWebhook {
  url: string;
  /** `webhook-id`: the event's id, the same on every retry and resend, so the receiver can dedupe. */
  msgId: string;
  timestamp: Date;
  /** The exact bytes sent and signed. */
  body: string;
  /** `whsec_…` secrets to sign with: the current one, and the previous one during a rotation's grace. */
  secrets: readonly string[];
}

export interface SendResult {
  ok: boolean;
  status: number;
  /** The first bytes of the answer, for the attempt log. */
  excerpt: string;
  durationMs: number;
}

/** `v1,<sig>` per secret, space-separated: a receiver holding either secret verifies. */
export function signatureHeader(secrets: readonly string[], msgId: string, timestamp: Date, body: string): string {
  return secrets.map((s) => new Webhook(s).sign(msgId, timestamp, body)).join(' ');
}

/** One attempt. A non-2xx answer is a result; a refused address, a redirect or a network failure is a ConnectorError. */
export async function sendWebhook(http: VendorHttp, w: OutboundWebhook): Promise<SendResult> {
  const started = Date.now();
  const res = await http.fetch(w.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'tourhub-webhooks/1',
      'webhook-id': w.msgId,
      'webhook-timestamp': String(Math.floor(w.timestamp.getTime() / 1000)),
      'webhook-signature': signatureHeader(w.secrets, w.msgId, w.timestamp, w.body),
    },
    body: w.body,
  });
  const text = await res.text().catch(() => '');
  return { ok: res.status >= 200 && res.status < 300, status: res.status, excerpt: text.slice(0, 500), durationMs: Date.now() - started };
}

/** A short reason for the attempt log: the guard's rule, the classified code, never a body. */
export function failureReason(err: unknown): string {
  if (err instanceof ConnectorError) return `${err.code}: ${err.message}`.slice(0, 500);
  return String((err as Error)?.message ?? err).slice(0, 500);
}
