import type { SmsConnector } from '../../contracts';
import { ConnectorError } from '../../errors';
import { smsInput } from '../../normalize';
import type { ConnectorContext } from '../../registry-types';
import { API_VERSION, BODY_MAX, findEarlierSend, messageForm, reconcileQuery, smsStatus, type Sender, type TwilioMessage } from './mapping';

export type TwilioCredentials = { accountSid: string; authToken: string } | { accountSid: string; apiKeySid: string; apiKeySecret: string; authToken?: string | undefined };

export interface TwilioSettings {
  from?: string | undefined;
  messagingServiceSid?: string | undefined;
  statusCallbackUrl?: string | undefined;
}

/** Twilio's US1 REST host; a Twilio Region (api.<edge>.<region>.twilio.com) would be a deployment's CONNECTOR_BASE_URLS. */
export const TWILIO_HOSTS = ['api.twilio.com'];
const PROVIDER = 'twilio';

/** API key and secret when given (Twilio's recommendation), else Account SID and Auth Token. */
function basicAuth(creds: TwilioCredentials): string {
  const [user, password] = 'apiKeySid' in creds ? [creds.apiKeySid, creds.apiKeySecret] : [creds.accountSid, creds.authToken];
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function sender(settings: TwilioSettings): Sender {
  if (settings.messagingServiceSid) return { messagingServiceSid: settings.messagingServiceSid };
  if (settings.from) return { from: settings.from };
  throw new ConnectorError({ code: 'misconfigured', retryable: false, provider: PROVIDER, message: 'Set a From number or a Messaging Service SID' });
}

/**
 * Plain fetch through createHttpClient rather than the twilio SDK: the SDK reads TWILIO_* and
 * HTTP_PROXY from the environment (connectors never do), its RestException drops the response headers
 * (so Retry-After would be lost), and pointing it at a loopback fake needs a custom RequestClient.
 */
export function createTwilioClient(ctx: ConnectorContext<TwilioCredentials, TwilioSettings>): SmsConnector {
  const http = ctx.http.client({
    baseUrl: ctx.http.baseUrl ?? 'https://api.twilio.com',
    headers: () => ({ authorization: basicAuth(ctx.credentials) }),
  });
  const account = `${API_VERSION}/Accounts/${encodeURIComponent(ctx.credentials.accountSid)}`;

  function checked(message: TwilioMessage | undefined): TwilioMessage {
    if (!message || typeof message.sid !== 'string') {
      throw new ConnectorError({ code: 'unexpected_response', retryable: false, provider: PROVIDER, message: 'Twilio answered without a message sid' });
    }
    return message;
  }

  return {
    async sendMessage(raw, opts) {
      const from = sender(ctx.settings);
      const input = smsInput(PROVIDER, raw, BODY_MAX);
      const key = opts.idempotencyKey;
      const prior = await ctx.guard.find(key);
      if (prior?.state === 'sent') {
        // Sent by an earlier attempt: no second message. Its current status is getDeliveryStatus's job.
        return { messageId: prior.reference ?? '', status: 'unknown' };
      }
      if (prior?.state === 'attempted') {
        // An earlier attempt crashed mid-call: Twilio may or may not have the message. Look before resending.
        const now = ctx.now();
        const page = await http.request<{ messages?: TwilioMessage[] }>({
          method: 'GET',
          path: `${account}/Messages.json`,
          query: reconcileQuery(input.to, from, now),
        });
        const earlier = findEarlierSend(page.body?.messages ?? [], input, from, now);
        if (earlier) {
          await ctx.guard.markSent(key, earlier.sid);
          return { messageId: earlier.sid, status: smsStatus(earlier.status) };
        }
      } else {
        await ctx.guard.markAttempted(key);
      }
      const res = await http.request<TwilioMessage>({
        method: 'POST',
        path: `${account}/Messages.json`,
        form: messageForm(input, from, ctx.settings.statusCallbackUrl),
      });
      const message = checked(res.body);
      await ctx.guard.markSent(key, message.sid);
      return { messageId: message.sid, status: smsStatus(message.status) };
    },

    async getDeliveryStatus(messageId) {
      const res = await http.request<TwilioMessage>({ method: 'GET', path: `${account}/Messages/${encodeURIComponent(messageId)}.json` });
      const message = checked(res.body);
      return {
        status: smsStatus(message.status),
        ...(message.error_code !== null && message.error_code !== undefined ? { errorCode: String(message.error_code) } : {}),
      };
    },

    async ping() {
      await http.request({ method: 'GET', path: `${account}.json` });
    },
  };
}
