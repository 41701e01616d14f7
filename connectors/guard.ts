import type { DeliveryGuard } from './contracts';

/**
 * At most one successful send per key, for providers with no idempotency mechanism: a key already
 * marked sent returns its reference without calling; otherwise the attempt is recorded first, so a
 * crash mid-call is visible to the retry, and the reference is recorded once the provider accepted.
 */
export async function sendOnce(guard: DeliveryGuard, key: string, send: () => Promise<string>): Promise<string | undefined> {
  const prior = await guard.find(key);
  if (prior?.state === 'sent') return prior.reference;
  await guard.markAttempted(key);
  const reference = await send();
  await guard.markSent(key, reference);
  return reference;
}
