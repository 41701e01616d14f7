import { createHash } from 'node:crypto';
import { capText, normalizeEmail } from '../../normalize';

/**
 * PayPal REST: OAuth 2.0 client credentials (https://developer.paypal.com/api/rest/authentication/) and
 * the Subscriptions API v1 (https://developer.paypal.com/docs/api/subscriptions/v1/). Pure.
 *
 * PayPal has no customer record to keep metadata on. Interest in a plan becomes a subscription to the
 * planner's matching PayPal plan in status APPROVAL_PENDING: nothing is charged until the couple
 * approves it with the link PayPal returns, and the planner sees who asked for what.
 */

export const PAYPAL_BASE_URLS = { live: 'https://api-m.paypal.com', sandbox: 'https://api-m.sandbox.paypal.com' } as const;
export const PAYPAL_HOSTS = ['api-m.paypal.com', 'api-m.sandbox.paypal.com'];

/** `custom_id`: 1 to 127 printable ASCII characters. `email_address`: at most 254. */
export const SUBSCRIPTION_LIMITS = { customId: 127, email: 254 } as const;
/** PayPal-Request-Id: we keep it within 108 characters, the shortest limit PayPal states for the header. */
export const REQUEST_ID_MAX = 108;

export function requestId(idempotencyKey: string): string {
  if (idempotencyKey.length <= REQUEST_ID_MAX && /^[\x21-\x7e]+$/.test(idempotencyKey)) return idempotencyKey;
  return `tourhub-${createHash('sha256').update(idempotencyKey, 'utf8').digest('hex')}`;
}

/** The customer id this connector hands back: PayPal has none, so the email the subscription is for. */
export function customerKey(email: string): string {
  return normalizeEmail(email);
}

export interface SubscriptionRequest {
  plan_id: string;
  custom_id: string;
  subscriber: { email_address: string };
  application_context: { user_action: 'SUBSCRIBE_NOW'; shipping_preference: 'NO_SHIPPING' };
}

/** POST /v1/billing/subscriptions for the couple (by email) and the planner's plan. */
export function subscriptionRequest(planId: string, customerId: string, input: { source: string; occurredAt: string }): SubscriptionRequest {
  const ascii = `tourhub:${input.source}:${input.occurredAt}`.replace(/[^\x20-\x7e]/g, '?');
  return {
    plan_id: planId,
    custom_id: capText(ascii, SUBSCRIPTION_LIMITS.customId),
    subscriber: { email_address: capText(customerKey(customerId), SUBSCRIPTION_LIMITS.email) },
    application_context: { user_action: 'SUBSCRIBE_NOW', shipping_preference: 'NO_SHIPPING' },
  };
}

export interface PayPalToken {
  access_token?: string;
  expires_in?: number;
}
