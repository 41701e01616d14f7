import { z } from 'zod';
import { endpoint, refused } from '../../../endpoint';
import { IntegrationEnvelope, presentIntegration } from '../views';
import { OAuthParams } from './start';

const OAuthCallbackQuery = z
  .object({
    code: z.string().min(1).max(4096).optional(),
    state: z.string().min(1).max(4096),
    error: z.string().max(200).optional(),
    error_description: z.string().max(2000).optional(),
  })
  // Providers add their own parameters (scope, session_state, iss): accept, ignore.
  .loose();

export const oauthCallback = endpoint({
  operationId: 'completeOAuth',
  method: 'get',
  path: '/api/integrations/oauth/{provider}/callback',
  tag: 'OAuth',
  summary: "Where the provider sends the admin's browser back: exchanges the code and stores the tokens",
  description: 'No bearer token: the signed `state` from startOAuth is the proof. Tokens are sealed at rest and never returned.',
  access: 'public',
  params: OAuthParams,
  query: OAuthCallbackQuery,
  responses: {
    200: { description: 'New tokens for the existing integration', json: IntegrationEnvelope },
    201: { description: 'The integration, created', json: IntegrationEnvelope },
  },
  errors: ['unknown_provider', 'oauth_not_configured', 'invalid_oauth_state', 'oauth_denied', 'validation_error', 'oauth_exchange_failed', 'provider_unavailable', 'invalid_credentials', 'database_unavailable'],
}).handle(async ({ params, query }, { oauth }) => {
  const connected = await oauth.completeConsent({
    provider: params.provider,
    state: query.state,
    ...(query.code ? { code: query.code } : {}),
    ...(query.error ? { error: query.error } : {}),
  });
  if (!connected.ok) return refused(connected.refusal);
  return { status: connected.value.created ? 201 : 200, body: { integration: presentIntegration(connected.value.integration) } };
});
