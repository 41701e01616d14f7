import type { HttpResponse, VendorHttp } from '../../http';
import type { HookEnvelope } from './hook';
import { signatureHeader } from './signature';

export interface CatchHookClientOptions {
  /** The resolved catch-hook URL (see hook.resolveHookUrl). */
  hookUrl: URL;
  signingSecret: string;
  http: VendorHttp;
  /** Epoch milliseconds, for the signature's timestamp. */
  now: () => number;
}

export interface CatchHookClient {
  /** POSTs the envelope as JSON, signed, with the idempotency key also as a header. */
  send(envelope: HookEnvelope): Promise<HttpResponse>;
}

/** A Zapier or Make catch hook that receives signed JSON envelopes (HoneyBook, PocketSuite). */
export function createCatchHookClient(opts: CatchHookClientOptions): CatchHookClient {
  const http = opts.http.client({ baseUrl: opts.hookUrl.origin });
  return {
    send(envelope) {
      // http.ts serialises `json` with JSON.stringify, so these are the exact bytes that go out.
      const rawBody = JSON.stringify(envelope);
      const timestamp = Math.floor(opts.now() / 1000);
      return http.request({
        method: 'POST',
        path: opts.hookUrl.href,
        json: envelope,
        headers: {
          'x-tourhub-signature': signatureHeader(opts.signingSecret, timestamp, rawBody),
          'x-tourhub-idempotency-key': envelope.idempotency_key,
        },
      });
    },
  };
}
