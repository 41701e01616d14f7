import { z } from 'zod';
import { endpoint, refused } from '../../endpoint';
import { IntegrationEnvelope, integrationFields, integrationInput, IntegrationParams, presentIntegration } from './views';

export const UpdateIntegrationBody = z
  .strictObject({ credentials: z.record(z.string(), z.unknown()).optional().describe('Credential providers only; OAuth tokens come from the consent screen'), ...integrationFields })
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one field to change' });

export const updateIntegration = endpoint({
  operationId: 'updateIntegration',
  method: 'patch',
  path: '/api/integrations/{id}',
  tag: 'Integrations',
  summary: 'Change an integration',
  description:
    "Fields sent replace the stored ones, except `routes`, which is merged into the stored overrides (`null` drops one). Credentials are bound to the account's host: a change of host (a Light Blue `accountHost`) needs them in the same request (422 `credentials_required`), and a new account address is checked like a first one.",
  access: 'admin',
  params: IntegrationParams,
  body: UpdateIntegrationBody,
  responses: { 200: { description: 'The integration as changed', json: IntegrationEnvelope } },
  errors: ['not_found', 'unknown_provider', 'oauth_required', 'validation_error', 'invalid_credentials', 'invalid_settings', 'outbound_address_forbidden', 'credentials_required'],
}).handle(async ({ params, body, auth }, { integrations }) => {
  const updated = await integrations.update(auth, params.id, { ...(body.credentials ? { credentials: body.credentials } : {}), ...integrationInput(body) });
  if (!updated.ok) return refused(updated.refusal);
  return { status: 200, body: { integration: presentIntegration(updated.value) } };
});
