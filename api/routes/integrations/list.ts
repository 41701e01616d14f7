import { z } from 'zod';
import { endpoint } from '../../endpoint';
import { IntegrationView, presentIntegration } from './views';

export const listIntegrations = endpoint({
  operationId: 'listIntegrations',
  method: 'get',
  path: '/api/integrations',
  tag: 'Integrations',
  summary: "The organisation's integrations",
  access: 'admin',
  responses: {
    200: { description: 'By category and provider', json: z.strictObject({ integrations: z.array(IntegrationView), total: z.number().int().min(0) }) },
  },
  errors: [],
}).handle(async ({ auth }, { integrations }) => {
  const records = await integrations.list(auth);
  return { status: 200, body: { integrations: records.map(presentIntegration), total: records.length } };
});
