import type { CategoryConnectors, DeliveryGuard } from '../../connectors/contracts';
import { registry } from '../../connectors/registry';
import { context, memoryGuard, staticOAuth } from './connectors';
import type { FakeProvider, FakeProviderId } from './fake-core';
import { createFakeProvider } from './fake-providers';

/**
 * The real connector for a fake, built from the registry with the fake's own credentials and settings,
 * as the worker builds it with CONNECTOR_BASE_URLS naming the fake (deploymentEnv) and loopback allowed.
 */
export function connectToFake<C extends keyof CategoryConnectors>(
  fake: FakeProvider,
  opts: { guard?: DeliveryGuard; timeoutMs?: number; credentials?: Record<string, unknown>; settings?: Record<string, unknown> } = {},
): CategoryConnectors[C] {
  const entry = registry.get(fake.id)!;
  const credentials = { ...fake.integration.credentials, ...opts.credentials };
  const settings = { ...fake.integration.settings, ...opts.settings };
  return entry.create(
    context(entry, entry.credentialsSchema.parse(credentials), entry.settingsSchema.parse(settings), {
      timeoutMs: opts.timeoutMs ?? 10_000,
      baseUrl: fake.deploymentBaseUrl,
      guard: opts.guard ?? memoryGuard(),
      now: Date.now,
      ...(entry.auth === 'oauth2' ? { oauth: staticOAuth(String(credentials.accessToken)) } : {}),
    }),
  ) as CategoryConnectors[C];
}

/** A guard whose first markSent fails: the provider got the call, then the worker died before recording it. */
export function crashOnceAfterSend(): DeliveryGuard & { records: ReturnType<typeof memoryGuard>['records'] } {
  const inner = memoryGuard();
  let crash = true;
  return {
    records: inner.records,
    find: (k) => inner.find(k),
    markAttempted: (k) => inner.markAttempted(k),
    async markSent(k, ref) {
      if (crash) {
        crash = false;
        throw new Error('worker died');
      }
      return inner.markSent(k, ref);
    },
  };
}

/** One vendor's fake for a test file: started before its tests, reset before each (calls, latency, outage), closed after. */
export function useFake(id: FakeProviderId): FakeProvider {
  const fake = createFakeProvider(id);
  beforeAll(() => fake.start());
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.clearCalls();
    fake.setLatency(0);
    fake.up();
  });
  return fake;
}
