import { endpoint, refused } from '../../endpoint';
import { IntegrationParams } from './views';

export const deleteIntegration = endpoint({
  operationId: 'deleteIntegration',
  method: 'delete',
  path: '/api/integrations/{id}',
  tag: 'Integrations',
  summary: 'Delete an integration and its credentials',
  access: 'admin',
  params: IntegrationParams,
  responses: { 204: { description: 'Deleted' } },
  errors: ['not_found'],
}).handle(async ({ params, auth }, { integrations }) => {
  const removed = await integrations.remove(auth, params.id);
  if (!removed.ok) return refused(removed.refusal);
  return { status: 204 };
});
