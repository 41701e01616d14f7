import crypto from 'node:crypto';
import { verifySignature } from '../../connectors/crm/catch-hook/signature';
import { json, obj, type CallOutcome, type Route } from '../support/fake-core';

/** What the rest of the Zap did with an envelope the hook accepted: its vendor steps' outcome. */
export type ZapSteps = (envelope: Record<string, unknown>) => Extract<CallOutcome, 'applied' | 'rejected'>;

/** The idempotency key of a post: the header our catch-hook client sends, else the envelope's own field. */
export function hookKey(headers: Record<string, unknown>, body: unknown): string | undefined {
  return (headers['x-tourhub-idempotency-key'] as string | undefined) ?? (obj(body).idempotency_key as string | undefined);
}

/**
 * A Zapier "Catch Raw Hook" and the Zap behind it, as HoneyBook's and PocketSuite's READMEs tell the
 * planner to build it. Zapier answers every post to a live hook with 200 and its request id, whatever
 * the Zap then makes of it; the Zap's code step checks `X-Tourhub-Signature` (a bad one: `rejected`),
 * a `ping` stops at its filter (`read`), its Storage step drops an idempotency key it has seen
 * (`deduplicated`), and `steps` do the vendor's work. A path that is no live hook is the core's 404.
 */
export function zapierCatchHook(opts: { hookPath: string; signingSecret: string; steps?: ZapSteps }): Route {
  const seen = new Set<string>();
  const accepted = () => json(200, { attempt: crypto.randomUUID(), id: crypto.randomUUID(), request_id: crypto.randomUUID(), status: 'success' }, 'read');
  return {
    method: 'POST',
    path: new RegExp(`^${opts.hookPath}?$`),
    kind: 'write',
    key: (req) => hookKey(req.headers, req.body),
    handle(req, key) {
      const envelope = obj(req.body);
      const signed = verifySignature(opts.signingSecret, req.headers['x-tourhub-signature'] as string | undefined, req.raw, Math.floor(Date.now() / 1000));
      const answer = accepted();
      if (!signed || !key || envelope.idempotency_key !== key) return { ...answer, outcome: 'rejected' };
      if (envelope.event === 'ping') return answer;
      if (seen.has(key)) return { ...answer, outcome: 'deduplicated' };
      seen.add(key);
      return { ...answer, outcome: opts.steps?.(envelope) ?? 'applied' };
    },
  };
}
