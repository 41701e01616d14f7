import { ConnectorError } from '../../connectors/errors';
import type { DeliveryGuard, OAuthSession } from '../../connectors/contracts';
import type { ConnectorContext } from '../../connectors/registry-types';

/** A DeliveryGuard in memory, with its records visible to assertions. */
export function memoryGuard(): DeliveryGuard & { records: Map<string, { state: 'attempted' | 'sent'; reference?: string }> } {
  const records = new Map<string, { state: 'attempted' | 'sent'; reference?: string }>();
  return {
    records,
    async find(key) {
      return records.get(key) ?? null;
    },
    async markAttempted(key) {
      if (!records.has(key)) records.set(key, { state: 'attempted' });
    },
    async markSent(key, reference) {
      records.set(key, { state: 'sent', reference });
    },
  };
}

/** A fixed-token OAuth session that counts refreshes. */
export function staticOAuth(token = 'access-token-1', refreshed = 'access-token-2'): OAuthSession & { refreshes: number } {
  let current = token;
  const session = {
    refreshes: 0,
    async accessToken() {
      return current;
    },
    async refresh() {
      session.refreshes++;
      current = refreshed;
      return current;
    },
  };
  return session;
}

export function context<C, S>(credentials: C, settings: S, extra: Partial<ConnectorContext<C, S>> = {}): ConnectorContext<C, S> {
  return { credentials, settings, timeoutMs: 2000, guard: memoryGuard(), now: () => Date.parse('2026-11-23T12:00:00Z'), ...extra };
}

/** The ConnectorError a call rejects with (failing the test if it resolves or throws anything else). */
export async function connectorFailure(promise: Promise<unknown>): Promise<ConnectorError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectorError);
  return err as ConnectorError;
}
