import type { EmailConnector } from '../../contracts';
import { ConnectorError } from '../../errors';
import { sendOnce } from '../../guard';
import { normalizeEmail } from '../../normalize';
import type { ConnectorContext } from '../../registry-types';
import { KIT_BASE_URL, subscriberBody, tagNames } from './mapping';

export interface KitCredentials {
  apiKey: string;
}

export interface KitSettings {
  /** Our sequence names ('welcome', 're-engagement') -> Kit sequence ids. */
  sequences: Record<string, number>;
  /** Our merge-field names -> Kit custom field keys. */
  fieldKeys: Record<string, string>;
}

const PROVIDER = 'kit';

/**
 * Plain fetch through the guarded client: Kit publishes no official Node SDK for API v4. Every call
 * carries the account's v4 API key in `X-Kit-Api-Key`.
 */
export function createKitClient(ctx: ConnectorContext<KitCredentials, KitSettings>): EmailConnector {
  const http = ctx.http.client({ baseUrl: ctx.http.baseUrl ?? KIT_BASE_URL, headers: () => ({ 'x-kit-api-key': ctx.credentials.apiKey }) });

  /** POST /v4/tags answers the existing tag when one has this name, so this is find-or-create by name. */
  async function tagId(name: string): Promise<number> {
    const res = await http.request<{ tag?: { id?: number } }>({ method: 'POST', path: 'tags', json: { name } });
    const id = res.body?.tag?.id;
    if (typeof id !== 'number') throw new ConnectorError({ code: 'unexpected_response', retryable: false, provider: PROVIDER, message: 'Kit answered a tag without an id' });
    return id;
  }

  return {
    // An upsert by email address: the same request twice leaves one subscriber.
    async upsertSubscriber(input) {
      const res = await http.request<{ subscriber?: { id?: number } }>({
        method: 'POST',
        path: 'subscribers',
        json: subscriberBody(input.person, input.mergeFields ?? {}, ctx.settings.fieldKeys),
      });
      const id = res.body?.subscriber?.id;
      if (typeof id !== 'number') throw new ConnectorError({ code: 'unexpected_response', retryable: false, provider: PROVIDER, message: 'Kit answered a subscriber without an id' });
      return { subscriberId: String(id) };
    },

    // Tagging is naturally idempotent: a subscriber tagged twice has the tag once.
    async addTags(input) {
      for (const name of tagNames(input.tags)) {
        await http.request({ method: 'POST', path: `tags/${await tagId(name)}/subscribers`, json: { email_address: normalizeEmail(input.email) } });
      }
    },

    async removeTags(input) {
      for (const name of tagNames(input.tags)) {
        try {
          await http.request({ method: 'DELETE', path: `tags/${await tagId(name)}/subscribers`, json: { email_address: normalizeEmail(input.email) } });
        } catch (err) {
          // Not tagged (or not a subscriber): the tag is not on them, which is what we want.
          if (!(err instanceof ConnectorError && err.status === 404)) throw err;
        }
      }
    },

    async triggerSequence(input, opts) {
      const sequenceId = ctx.settings.sequences[input.sequence];
      if (sequenceId === undefined) {
        throw new ConnectorError({ code: 'misconfigured', retryable: false, provider: PROVIDER, message: `No Kit sequence is configured for the "${input.sequence}" sequence` });
      }
      // Kit adds a subscriber to a sequence once (a repeat answers 200 with the same subscription); the
      // delivery record skips the call entirely once it went through.
      await sendOnce(ctx.guard, opts.idempotencyKey, async () => {
        await http.request({ method: 'POST', path: `sequences/${sequenceId}/subscribers`, json: { email_address: normalizeEmail(input.email) } });
        return `sequence:${sequenceId}`;
      });
    },

    async ping() {
      await http.request({ method: 'GET', path: 'account' });
    },
  };
}
