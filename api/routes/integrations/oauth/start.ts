import { z } from 'zod';
import { endpoint, refused, type SetCookie } from '../../../endpoint';
import type { BrowserBinding } from '../../../../services/oauth';

export const OAuthParams = z.strictObject({ provider: z.string().min(1).max(50) });

const BINDING = "`tourhub_oauth`: binds the consent to this browser (HttpOnly, SameSite=Lax, only sent to this provider's callback path, ten minutes; Secure when the API is served over https)";

export const startOAuth = endpoint({
  operationId: 'startOAuth',
  method: 'get',
  path: '/api/integrations/oauth/{provider}/start',
  tag: 'OAuth',
  summary: "Send the admin to the provider's consent screen (Google Calendar, Outlook)",
  description:
    'Redirects with a single-use `state` for this organisation, admin and provider, valid for ten minutes, and a PKCE (S256) ' +
    "challenge. The answer sets an HttpOnly cookie that binds the consent to this browser: the callback refuses the state in any " +
    "other. `?response=json` returns the URL instead, for a front end that opens it itself (the cookie is set all the same). " +
    'The provider sends the browser back to the callback.',
  access: 'admin',
  params: OAuthParams,
  query: z.strictObject({ response: z.enum(['redirect', 'json']).optional() }),
  responses: {
    200: { description: 'With `?response=json`: the consent URL', json: z.strictObject({ authorize_url: z.url() }), setsCookie: BINDING },
    302: { description: 'To the consent screen', redirect: true, setsCookie: BINDING },
  },
  errors: ['unknown_provider', 'not_oauth_provider', 'oauth_not_configured'],
}).handle(async ({ params, query, auth }, { oauth }) => {
  const consent = await oauth.startConsent(auth, params.provider);
  if (!consent.ok) return refused(consent.refusal);
  const cookies = [bindingCookie(consent.value.binding)];
  return query.response === 'json'
    ? { status: 200, body: { authorize_url: consent.value.authorizeUrl }, cookies }
    : { status: 302, redirect: consent.value.authorizeUrl, cookies };
});

export function bindingCookie(b: BrowserBinding, clear = false): SetCookie {
  return { name: b.name, value: clear ? '' : b.value, path: b.path, maxAgeSeconds: clear ? 0 : b.maxAgeSeconds, secure: b.secure, httpOnly: true, sameSite: 'lax' };
}
