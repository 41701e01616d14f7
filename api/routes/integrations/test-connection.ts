import { z } from 'zod';
import { endpoint, refused } from '../../endpoint';
import { canonicalUuid } from '../shared';
import { IntegrationParams } from './views';

const latency = z.number().int().min(0).describe('Milliseconds the call took');

export const testIntegration = endpoint({
  operationId: 'testIntegration',
  method: 'post',
  path: '/api/integrations/{id}/test',
  tag: 'Integrations',
  summary: "Call the provider's cheapest read with the stored credentials",
  description:
    "The provider's refusal (a revoked key, an outage) is a 200 with `ok: false`, its classified code and a short message, never its body. A destination the outbound rules refuse (an address after DNS, a redirect) is a 422 and receives nothing. No database connection is held while the provider answers; an organisation runs at most `INTEGRATION_TEST_CONCURRENCY` tests at once (429 `too_many_connection_tests`).",
  access: 'admin',
  params: IntegrationParams,
  responses: {
    200: {
      description: 'What the provider answered',
      json: z.union([
        z.strictObject({ integration_id: canonicalUuid(), ok: z.literal(true), latency_ms: latency }),
        z.strictObject({
          integration_id: canonicalUuid(),
          ok: z.literal(false),
          latency_ms: latency,
          error: z.strictObject({ code: z.string(), message: z.string(), retryable: z.boolean(), status: z.number().int().nullable() }),
        }),
      ]),
    },
  },
  errors: ['not_found', 'unknown_provider', 'oauth_not_configured', 'outbound_address_forbidden', 'outbound_redirect_refused', 'too_many_connection_tests'],
}).handle(async ({ params, auth }, { integrations }) => {
  const tested = await integrations.testConnection(auth, params.id);
  if (!tested.ok) return refused(tested.refusal);
  const t = tested.value;
  return {
    status: 200,
    body: t.ok ? { integration_id: params.id, ok: true, latency_ms: t.latencyMs } : { integration_id: params.id, ok: false, latency_ms: t.latencyMs, error: t.error },
  };
});
