import { endpoint, refused } from '../../endpoint';
import { IntegrationEnvelope, IntegrationParams, presentIntegration } from './views';

export const getIntegration = endpoint({
  operationId: 'getIntegration',
  method: 'get',
  path: '/api/integrations/{id}',
  tag: 'Integrations',
  summary: 'One integration',
  access: 'admin',
  params: IntegrationParams,
  responses: { 200: { description: 'The integration', json: IntegrationEnvelope } },
  errors: ['not_found'],
}).handle(async ({ params, auth }, { integrations }) => {
  const found = await integrations.get(auth, params.id);
  if (!found.ok) return refused(found.refusal);
  return { status: 200, body: { integration: presentIntegration(found.value) } };
});
