import { zapierCatchHook } from './catch-hook';
import { hex, type ProviderSpec } from '../support/fake-core';

/**
 * HoneyBook: a Zapier catch hook whose Zap verifies the signature and drops repeated idempotency keys.
 * Served by the fake server core (test/support/fake-core.ts); started with the others by
 * test/support/fake-providers.ts.
 */
export function honeybookSpec(): ProviderSpec {
  const signingSecret = `whsec_${hex(24)}`;
  const hookPath = '/hooks/catch/1234567/tourhub0fake/';
  return {
    id: 'honeybook',
    errorBody: (status) => ({ status: 'error', message: status === 404 ? 'Hook not found.' : 'Service Unavailable' }),
    integration: () => ({
      provider: 'honeybook',
      category: 'crm',
      auth: 'webhook-secret',
      credentials: { hookUrl: `https://hooks.zapier.com${hookPath}`, signingSecret },
      settings: {},
    }),
    baseUrl: (url) => url,
    routes: [zapierCatchHook({ hookPath, signingSecret })],
  };
}
