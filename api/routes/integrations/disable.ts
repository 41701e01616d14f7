import { endpoint, refused } from '../../endpoint';
import { IntegrationEnvelope, IntegrationParams, presentIntegration } from './views';

export const disableIntegration = endpoint({
  operationId: 'disableIntegration',
  method: 'post',
  path: '/api/integrations/{id}/disable',
  tag: 'Integrations',
  summary: 'Stop sending to an integration (its deliveries and settings are kept)',
  access: 'admin',
  params: IntegrationParams,
  responses: { 200: { description: 'The integration, disabled', json: IntegrationEnvelope } },
  errors: ['not_found'],
}).handle(async ({ params, auth }, { integrations }) => {
  const disabled = await integrations.disable(auth, params.id);
  if (!disabled.ok) return refused(disabled.refusal);
  return { status: 200, body: { integration: presentIntegration(disabled.value) } };
});
