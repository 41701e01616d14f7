import { z } from 'zod';
import { endpoint, refused } from '../../../endpoint';

export const OAuthParams = z.strictObject({ provider: z.string().min(1).max(50) });

export const startOAuth = endpoint({
  operationId: 'startOAuth',
  method: 'get',
  path: '/api/integrations/oauth/{provider}/start',
  tag: 'OAuth',
  summary: "Send the admin to the provider's consent screen (Google Calendar, Outlook)",
  description:
    'Redirects with a `state` signed for this organisation, admin and provider, valid for ten minutes. ' +
    "`?response=json` returns the URL instead, for a front end that opens it itself. The provider sends the browser back to the callback.",
  access: 'admin',
  params: OAuthParams,
  query: z.strictObject({ response: z.enum(['redirect', 'json']).optional() }),
  responses: {
    200: { description: 'With `?response=json`: the consent URL', json: z.strictObject({ authorize_url: z.url() }) },
    302: { description: 'To the consent screen', redirect: true },
  },
  errors: ['unknown_provider', 'not_oauth_provider', 'oauth_not_configured'],
}).handle(async ({ params, query, auth }, { oauth }) => {
  const consent = await oauth.startConsent(auth, params.provider);
  if (!consent.ok) return refused(consent.refusal);
  return query.response === 'json' ? { status: 200, body: { authorize_url: consent.value.authorizeUrl } } : { status: 302, redirect: consent.value.authorizeUrl };
});
