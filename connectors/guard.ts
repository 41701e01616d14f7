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

/**
 * `sendOnce` for providers that can be asked afterwards whether a send happened (an SMS provider's
 * message log): when an earlier attempt was recorded but never marked sent (a crash mid-call), `find`
 * looks for what it sent before anything is sent again. A reference found there is recorded as sent.
 */
export async function sendOnceOrFind(
  guard: DeliveryGuard,
  key: string,
  find: () => Promise<string | undefined>,
  send: () => Promise<string>,
): Promise<{ reference: string | undefined; sentNow: boolean }> {
  const prior = await guard.find(key);
  if (prior?.state === 'sent') return { reference: prior.reference, sentNow: false };
  if (prior?.state === 'attempted') {
    const earlier = await find();
    if (earlier !== undefined) {
      await guard.markSent(key, earlier);
      return { reference: earlier, sentNow: false };
    }
  } else {
    await guard.markAttempted(key);
  }
  const reference = await send();
  await guard.markSent(key, reference);
  return { reference, sentNow: true };
}
