import { z } from 'zod';
import { BROWSER_BINDING_COOKIE } from '../../../../services/oauth';
import { endpoint, refused } from '../../../endpoint';
import { bindingCookie } from './start';
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

const CLEARED = '`tourhub_oauth`, cleared: the consent it bound is used up';

export const oauthCallback = endpoint({
  operationId: 'completeOAuth',
  method: 'get',
  path: '/api/integrations/oauth/{provider}/callback',
  tag: 'OAuth',
  summary: "Where the provider sends the admin's browser back: exchanges the code and stores the tokens",
  description:
    'No bearer token: the `state` from startOAuth and the cookie its answer set are the proof. A state works once, only in the ' +
    "browser that started the consent, and only while its admin still is one; the code is exchanged with the consent's PKCE " +
    'verifier. The code and state never reach the logs. Tokens are sealed at rest and never returned.',
  access: 'public',
  params: OAuthParams,
  query: OAuthCallbackQuery,
  readsCookies: [{ name: BROWSER_BINDING_COOKIE, description: 'Set by startOAuth in the browser that started the consent' }],
  responses: {
    200: { description: 'New tokens for the existing integration', json: IntegrationEnvelope, setsCookie: CLEARED },
    201: { description: 'The integration, created', json: IntegrationEnvelope, setsCookie: CLEARED },
  },
  errors: [
    'unknown_provider',
    'oauth_not_configured',
    'invalid_oauth_state',
    'not_a_member',
    'admin_required',
    'oauth_denied',
    'validation_error',
    'oauth_exchange_failed',
    'provider_unavailable',
    'invalid_credentials',
    'database_unavailable',
  ],
}).handle(async ({ params, query, cookies }, { oauth }) => {
  const browserBinding = cookies[BROWSER_BINDING_COOKIE];
  const connected = await oauth.completeConsent({
    provider: params.provider,
    state: query.state,
    ...(browserBinding ? { browserBinding } : {}),
    ...(query.code ? { code: query.code } : {}),
    ...(query.error ? { error: query.error } : {}),
  });
  if (!connected.ok) return refused(connected.refusal);
  return {
    status: connected.value.created ? 201 : 200,
    body: { integration: presentIntegration(connected.value.integration) },
    // The consent is used up: so is the cookie that bound it to this browser.
    cookies: [bindingCookie(connected.value.binding, true)],
  };
});
