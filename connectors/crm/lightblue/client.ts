import { ConnectorError } from '../../errors';
import type { VendorHttp } from '../../http';
import { type LightBlueParams, parseResult, RESULT } from './mapping';

export const LIGHTBLUE_HOST = 'online.lightbluesoftware.com';
/** Light Blue's own domain: an account host elsewhere would receive the studio's API key. */
export const LIGHTBLUE_HOSTS = [/^([a-z0-9-]+\.)+lightbluesoftware\.com$/];

const PROVIDER = 'lightblue';

export interface LightBlueClientOptions {
  apiKey: string;
  /** The account's host (default online.lightbluesoftware.com); the deployment's base URL wins over it. */
  accountHost?: string;
  http: VendorHttp;
}

function unreadable(body: unknown): ConnectorError {
  const preview = typeof body === 'string' ? `: ${body.slice(0, 80)}` : '';
  return new ConnectorError({ code: 'unexpected_response', retryable: false, provider: PROVIDER, message: `Light Blue answered without a status code${preview}` });
}

/** A non-zero api.php status as a ConnectorError. None of them is fixed by sending the same request again. */
export function rejection(code: number, message: string | undefined): ConnectorError {
  const detail = message ? `: ${message}` : '';
  if (code === RESULT.httpsRequired) {
    return new ConnectorError({ code: 'misconfigured', retryable: false, provider: PROVIDER, message: `Light Blue refuses plain HTTP (status ${code})${detail}` });
  }
  if (code === RESULT.invalidType) {
    return new ConnectorError({ code: 'bad_request', retryable: false, provider: PROVIDER, message: `Light Blue rejected the request type or every parameter (status ${code})${detail}` });
  }
  return new ConnectorError({ code: 'bad_request', retryable: false, provider: PROVIDER, message: `Light Blue answered status ${code}${detail}` });
}

/** Light Blue's inbound API: form-encoded POSTs carrying the API key as a field. */
export function createLightBlueClient(opts: LightBlueClientOptions) {
  const http = opts.http.client({ baseUrl: opts.http.baseUrl ?? `https://${opts.accountHost ?? LIGHTBLUE_HOST}` });

  return {
    /**
     * POST /api.php with `key`, `type=contact form` and the parameters. Status 0 is a new Inbox item;
     * -4 means Light Blue already has this Source + ID, which for us is the same success.
     */
    async submit(params: LightBlueParams): Promise<{ duplicate: boolean }> {
      const res = await http.request({ method: 'POST', path: 'api.php', form: { key: opts.apiKey, type: 'contact form', ...params } });
      const result = parseResult(res.body);
      if (!result) throw unreadable(res.body);
      if (result.code === RESULT.success) return { duplicate: false };
      if (result.code === RESULT.duplicate) return { duplicate: true };
      throw rejection(result.code, result.message);
    },

    /**
     * POST /apiCheck.php with `Key`: the account check Light Blue's WordPress plugins run when a key is
     * saved. Writes nothing. 0 means the key and its online subscription are good.
     */
    async checkKey(): Promise<void> {
      const res = await http.request({ method: 'POST', path: 'apiCheck.php', form: { Key: opts.apiKey } });
      const result = parseResult(res.body);
      if (!result) throw unreadable(res.body);
      if (result.code !== RESULT.success) {
        throw new ConnectorError({
          code: 'unauthorized',
          retryable: false,
          provider: PROVIDER,
          message: `Light Blue did not accept the API key (status ${result.code})${result.message ? `: ${result.message}` : ''}`,
        });
      }
    },
  };
}

export type LightBlueClient = ReturnType<typeof createLightBlueClient>;
