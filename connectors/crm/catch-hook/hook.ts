import { z } from 'zod';

/**
 * Vendors with no public API that planners reach through Zapier or Make (HoneyBook, PocketSuite): each
 * write is one signed JSON envelope posted to the organisation's catch hook, whose Zap (or scenario)
 * verifies it, drops repeated idempotency keys and performs the vendor's step.
 */

/** Zapier catch hooks and Make (formerly Integromat) custom webhooks; nothing else receives our posts. */
export const HOOK_HOSTS = ['hooks.zapier.com', /^hook\.([a-z0-9-]+\.)?make\.com$/, /^hook\.([a-z0-9-]+\.)?integromat\.com$/];

/**
 * Both are secrets. The hook URL carries the hook's only access token in its path (anyone holding it
 * can post into the Zap), so it is a credential, encrypted at rest and never returned, not a setting.
 * The signing secret is shared with the Zap's verification step.
 */
export const hookCredentialsSchema = z
  .object({
    // Only the shape here: whether it may be called (https, a Zapier or Make host, its address after
    // DNS) is the outbound guard's verdict when it is saved, refused as 422 naming the rule.
    hookUrl: z.url({ error: 'must be the https URL of a Zapier (hooks.zapier.com) or Make (hook.<zone>.make.com) webhook' }).max(2048),
    signingSecret: z.string().min(32, 'use at least 32 random characters'),
  })
  .strict();

export interface HookEnvelope<E extends string = string> {
  event: E;
  idempotency_key: string;
  /** ISO 8601, UTC. */
  occurred_at: string;
  data: Record<string, unknown>;
}

export function envelope<E extends string>(event: E, idempotencyKey: string, occurredAt: string, data: Record<string, unknown>): HookEnvelope<E> {
  return { event, idempotency_key: idempotencyKey, occurred_at: occurredAt, data };
}

/**
 * The hook URL we post to. The deployment's base URL for the provider (CONNECTOR_BASE_URLS: tests, a
 * local relay) replaces the scheme, host and port and keeps the hook's path and query, so the
 * credential stays the real hook URL.
 */
export function resolveHookUrl(hookUrl: string, baseUrl?: string): URL {
  const hook = new URL(hookUrl);
  if (!baseUrl) return hook;
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/$/, '');
  return new URL(`${prefix}${hook.pathname}${hook.search}`, base.origin);
}

/**
 * What the hook's answer identifies the delivery by. Zapier's catch hooks answer
 * `{"status":"success","request_id":...}`; Make answers the text `Accepted`. Without an id, the
 * idempotency key itself is the reference.
 */
export function deliveryReference(body: unknown, idempotencyKey: string): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const k of ['request_id', 'id']) {
      const v = b[k];
      if (typeof v === 'string' && v) return `request:${v}`;
    }
  }
  return `key:${idempotencyKey}`;
}
