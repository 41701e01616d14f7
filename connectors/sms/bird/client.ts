import type { SmsConnector } from '../../contracts';
import { ConnectorError } from '../../errors';
import { sendOnceOrFind } from '../../guard';
import { smsInput } from '../../normalize';
import type { ConnectorContext } from '../../registry-types';
import { BIRD_BASE_URL, channelPath, messageBody, reference, smsStatus, TEXT_MAX, type BirdMessage } from './mapping';

export interface BirdCredentials {
  accessKey: string;
}

export interface BirdSettings {
  workspaceId: string;
  channelId: string;
}

const PROVIDER = 'bird';

/**
 * Plain fetch through the guarded client: the `messagebird` npm package speaks the retired MessageBird
 * REST API (rest.messagebird.com), and Bird publishes no Node SDK for the Channels API.
 */
export function createBirdClient(ctx: ConnectorContext<BirdCredentials, BirdSettings>): SmsConnector {
  const http = ctx.http.client({ baseUrl: ctx.http.baseUrl ?? BIRD_BASE_URL, headers: () => ({ authorization: `AccessKey ${ctx.credentials.accessKey}` }) });
  const channel = channelPath(ctx.settings.workspaceId, ctx.settings.channelId);

  const idOf = (message: BirdMessage | undefined): string => {
    if (message && typeof message.id === 'string' && message.id) return message.id;
    throw new ConnectorError({ code: 'unexpected_response', retryable: false, provider: PROVIDER, message: 'Bird answered without a message id' });
  };

  return {
    async sendMessage(raw, opts) {
      const input = smsInput(PROVIDER, raw, TEXT_MAX);
      const ref = reference(opts.idempotencyKey);
      // The Channels API has no idempotency key. The delivery record skips a key already sent; after a
      // crash mid-call, the channel's recent messages are searched for our reference before sending again.
      const result = await sendOnceOrFind(
        ctx.guard,
        opts.idempotencyKey,
        async () => {
          const res = await http.request<{ results?: BirdMessage[] }>({ method: 'GET', path: `${channel}/messages`, query: { limit: 100, direction: 'outgoing' } });
          const found = (res.body?.results ?? []).find((m) => m.reference === ref && m.receiver?.contacts?.some((c) => c.identifierValue === input.to));
          return found ? idOf(found) : undefined;
        },
        async () => idOf((await http.request<BirdMessage>({ method: 'POST', path: `${channel}/messages`, json: messageBody(input, ref) })).body),
      );
      return { messageId: result.reference ?? '', status: result.sentNow ? 'queued' : 'unknown' };
    },

    async getDeliveryStatus(messageId) {
      const res = await http.request<BirdMessage>({ method: 'GET', path: `${channel}/messages/${encodeURIComponent(messageId)}` });
      return { status: smsStatus(res.body?.status), ...(res.body?.reason ? { errorCode: res.body.reason } : {}) };
    },

    // GET the channel: authenticated, and proves the workspace and channel ids are right.
    async ping() {
      await http.request({ method: 'GET', path: channel });
    },
  };
}
