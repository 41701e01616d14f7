import { z } from 'zod';
import { endpoint, refused } from '../../endpoint';
import { IntegrationEnvelope, integrationFields, integrationInput, presentIntegration } from './views';

export const CreateIntegrationBody = z.strictObject({
  provider: z.string().min(1).max(50),
  credentials: z.record(z.string(), z.unknown()).describe("Checked against the provider's schema, sealed at rest, never returned"),
  ...integrationFields,
});

export const createIntegration = endpoint({
  operationId: 'createIntegration',
  method: 'post',
  path: '/api/integrations',
  tag: 'Integrations',
  summary: 'Connect a provider with credentials',
  description:
    "OAuth providers (Google Calendar, Outlook) are connected through their consent screen instead: see startOAuth. A key the provider's credentials or settings do not take is an unknown field (400 `validation_error`); an account address (a HoneyBook hook URL, a Light Blue `accountHost`) must be https on the vendor's hosts and resolve to a public address (422 `outbound_address_forbidden`).",
  access: 'admin',
  body: CreateIntegrationBody,
  responses: { 201: { description: 'Created', json: IntegrationEnvelope } },
  errors: ['unknown_provider', 'oauth_required', 'validation_error', 'invalid_credentials', 'invalid_settings', 'outbound_address_forbidden', 'credentials_required', 'integration_exists'],
}).handle(async ({ body, auth }, { integrations }) => {
  const created = await integrations.create(auth, { provider: body.provider, credentials: body.credentials, ...integrationInput(body) });
  if (!created.ok) return refused(created.refusal);
  return { status: 201, body: { integration: presentIntegration(created.value) } };
});
