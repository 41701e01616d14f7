import type { OAuthClient } from '../api/routes/integrations';
import type { Config } from '../config';

/** OAuth clients for the providers whose client id and secret are configured. */
export function oauthClients(_config: Config): Partial<Record<string, OAuthClient>> {
  return {};
}
