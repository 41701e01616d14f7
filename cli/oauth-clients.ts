import type { Config } from '../config';
import { googleOAuth, microsoftOAuth, type OAuthProvider } from '../connectors/calendar/oauth-providers';
import type { OAuthClient } from '../connectors/oauth';
import { googleCalendar } from '../connectors/calendar/google';
import { outlookCalendar } from '../connectors/calendar/outlook';
import type { OutboundGuard } from '../connectors/outbound';

function client(
  provider: OAuthProvider,
  creds: { clientId: string | undefined; clientSecret: string | undefined; tenant?: string },
  timeoutMs: number,
  guard: OutboundGuard,
): OAuthClient | undefined {
  const { clientId, clientSecret } = creds;
  if (!clientId || !clientSecret) return undefined;
  const tenant = creds.tenant ? { tenant: creds.tenant } : {};
  const endpoint = { clientId, clientSecret, timeoutMs, guard, now: Date.now, ...tenant };
  return {
    authorizeUrl: ({ state, redirectUri, codeChallenge }) => provider.authorizeUrl({ clientId, redirectUri, state, codeChallenge, ...tenant }),
    exchangeCode: ({ code, redirectUri, codeVerifier }) => provider.exchangeCode({ ...endpoint, code, redirectUri, codeVerifier }),
    refreshGrant: provider.refreshGrant(endpoint),
  };
}

/** OAuth clients for the providers whose client id and secret are configured; the others cannot be connected. */
export function oauthClients(config: Config, guard: OutboundGuard): Partial<Record<string, OAuthClient>> {
  const timeoutMs = config.connectors.timeoutMs;
  const google = client(googleOAuth, config.connectors.google, timeoutMs, guard);
  const microsoft = client(microsoftOAuth, config.connectors.microsoft, timeoutMs, guard);
  return {
    ...(google ? { [googleCalendar.id]: google } : {}),
    ...(microsoft ? { [outlookCalendar.id]: microsoft } : {}),
  };
}
