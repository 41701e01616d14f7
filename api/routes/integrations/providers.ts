import { z } from 'zod';
import { endpoint } from '../../endpoint';

const Provider = z.strictObject({
  id: z.string(),
  category: z.string(),
  display_name: z.string(),
  auth: z.enum(['api-key', 'oauth2', 'webhook-secret']),
  rate_per_second: z.number().positive().describe("The provider's published limit per account; deliveries keep to it"),
  docs_url: z.string(),
  connectable: z.boolean().describe('False for an OAuth provider this server has no client id and secret for'),
});

export const listProviders = endpoint({
  operationId: 'listProviders',
  method: 'get',
  path: '/api/integrations/providers',
  tag: 'Integrations',
  summary: 'The providers an integration can be made with',
  access: 'admin',
  responses: { 200: { description: 'Every provider this server knows', json: z.strictObject({ providers: z.array(Provider) }) } },
  errors: [],
}).handle(async (_input, { integrations }) => {
  return {
    status: 200,
    body: {
      providers: integrations.providers().map((p) => ({
        id: p.id,
        category: p.category,
        display_name: p.displayName,
        auth: p.auth,
        rate_per_second: p.ratePerSecond,
        docs_url: p.docsUrl,
        connectable: p.connectable,
      })),
    },
  };
});
