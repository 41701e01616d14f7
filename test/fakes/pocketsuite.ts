import { hex, lower, obj, type ProviderSpec } from '../support/fake-core';
import { zapierCatchHook } from './catch-hook';

/**
 * PocketSuite through the planner's Zap (PocketSuite has no public API; connectors/crm/pocketsuite/README.md):
 * a Zapier catch hook whose Zap verifies the signature, drops a repeated `idempotency_key`, then runs
 * PocketSuite's Zapier actions, "Create Client" (find or create by email) and "Add Client Note".
 *
 * Identity of a write: the envelope's `idempotency_key` (the Zap's Storage step dedupes on it). The
 * clients and notes the Zap made are kept, so a test can see what the planner sees in PocketSuite.
 */

export interface PocketSuiteClient {
  email: string;
  first_name?: string;
  last_name?: string;
  phone?: string;
  notes: string[];
}

export interface PocketSuiteFakeState {
  /** By lower-cased email, as the "Create Client" step finds them. */
  clients: Map<string, PocketSuiteClient>;
}

/** The Zap's PocketSuite steps refuse a client without an email, or a phone PocketSuite would not dial. */
const E164 = /^\+[1-9]\d{6,14}$/;

export function pocketsuiteSpec(): ProviderSpec {
  const signingSecret = `whsec_${hex(24)}`;
  const hookPath = '/hooks/catch/7654321/pocketsuite0fake/';
  const state: PocketSuiteFakeState = { clients: new Map() };
  return {
    id: 'pocketsuite',
    state,
    errorBody: (status) => ({ status: 'error', message: status === 404 ? 'Hook not found.' : 'Service Unavailable' }),
    integration: () => ({
      provider: 'pocketsuite',
      category: 'crm',
      auth: 'webhook-secret',
      credentials: { hookUrl: `https://hooks.zapier.com${hookPath}`, signingSecret },
      settings: {},
    }),
    baseUrl: (url) => url,
    routes: [
      zapierCatchHook({
        hookPath,
        signingSecret,
        steps(envelope) {
          const data = obj(envelope.data);
          const client = obj(data.client);
          const email = lower(client.email);
          if (!email.includes('@')) return 'rejected';
          if (client.phone !== undefined && !E164.test(String(client.phone))) return 'rejected';
          const existing = state.clients.get(email);
          const record: PocketSuiteClient = existing ?? { email, notes: [] };
          for (const field of ['first_name', 'last_name', 'phone'] as const) {
            if (typeof client[field] === 'string') record[field] = client[field];
          }
          if (typeof data.note === 'string') record.notes.push(data.note);
          state.clients.set(email, record);
          return 'applied';
        },
      }),
    ],
  };
}
