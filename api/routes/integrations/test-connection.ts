import { z } from 'zod';
import { endpoint, refused } from '../../endpoint';
import { uuid } from '../shared';
import { IntegrationParams } from './views';

const latency = z.number().int().min(0).describe('Milliseconds the call took');

export const testIntegration = endpoint({
  operationId: 'testIntegration',
  method: 'post',
  path: '/api/integrations/{id}/test',
  tag: 'Integrations',
  summary: "Call the provider's cheapest read with the stored credentials",
  description: "The provider's refusal (a revoked key, an outage) is a 200 with `ok: false` and its classified error.",
  access: 'admin',
  params: IntegrationParams,
  responses: {
    200: {
      description: 'What the provider answered',
      json: z.union([
        z.strictObject({ integration_id: uuid(), ok: z.literal(true), latency_ms: latency }),
        z.strictObject({
          integration_id: uuid(),
          ok: z.literal(false),
          latency_ms: latency,
          error: z.strictObject({ code: z.string(), message: z.string(), retryable: z.boolean(), status: z.number().int().nullable() }),
        }),
      ]),
    },
  },
  errors: ['not_found', 'unknown_provider', 'oauth_not_configured'],
}).handle(async ({ params, auth }, { integrations }) => {
  const tested = await integrations.testConnection(auth, params.id);
  if (!tested.ok) return refused(tested.refusal);
  const t = tested.value;
  return {
    status: 200,
    body: t.ok ? { integration_id: params.id, ok: true, latency_ms: t.latencyMs } : { integration_id: params.id, ok: false, latency_ms: t.latencyMs, error: t.error },
  };
});
