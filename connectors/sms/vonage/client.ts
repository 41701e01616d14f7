import type { SmsConnector } from '../../contracts';
import { ConnectorError } from '../../errors';
import { sendOnceOrFind } from '../../guard';
import { smsInput } from '../../normalize';
import type { ConnectorContext } from '../../registry-types';
import { clientRef, reconcileQuery, REPORTS_BASE_URL, SMS_BASE_URL, smsForm, smsResult, smsStatus, TEXT_MAX, type VonageRecord, type VonageSmsResponse } from './mapping';

export interface VonageCredentials {
  apiKey: string;
  apiSecret: string;
}

export interface VonageSettings {
  from: string;
}

const PROVIDER = 'vonage';

/**
 * Plain fetch through the guarded client rather than @vonage/server-sdk: the SDK's HTTP layer
 * (@vonage/vetch) requires Node 22 while we run on Node 20, and it takes no fetch or agent of ours, so
 * its calls would bypass the outbound rules. The three calls it would make are small.
 */
export function createVonageClient(ctx: ConnectorContext<VonageCredentials, VonageSettings>): SmsConnector {
  const sms = ctx.http.client({ baseUrl: ctx.http.baseUrl ?? SMS_BASE_URL });
  const basic = `Basic ${Buffer.from(`${ctx.credentials.apiKey}:${ctx.credentials.apiSecret}`).toString('base64')}`;
  const reports = ctx.http.client({ baseUrl: ctx.http.baseUrl ?? REPORTS_BASE_URL, headers: () => ({ authorization: basic }) });

  async function records(query: Record<string, string>): Promise<VonageRecord[]> {
    const res = await reports.request<{ records?: VonageRecord[] }>({ method: 'GET', path: 'v2/reports/records', query });
    return Array.isArray(res.body?.records) ? res.body.records : [];
  }

  return {
    async sendMessage(raw, opts) {
      const input = smsInput(PROVIDER, raw, TEXT_MAX);
      const ref = clientRef(opts.idempotencyKey);
      // The SMS API has no idempotency key. The delivery record skips a key already sent; after a crash
      // mid-call, the Reports API is asked for a message to this number carrying our client-ref before
      // anything is sent again.
      const result = await sendOnceOrFind(
        ctx.guard,
        opts.idempotencyKey,
        async () => (await records(reconcileQuery(ctx.credentials.apiKey, input.digits, ctx.now()))).find((r) => r.client_ref === ref)?.message_id,
        async () => {
          const res = await sms.request<VonageSmsResponse>({ method: 'POST', path: 'sms/json', form: smsForm(ctx.credentials, input, ctx.settings.from, ref) });
          return smsResult(res.body);
        },
      );
      return { messageId: result.reference ?? '', status: result.sentNow ? 'queued' : 'unknown' };
    },

    async getDeliveryStatus(messageId) {
      const found = await records({ account_id: ctx.credentials.apiKey, product: 'SMS', direction: 'outbound', id: messageId });
      const record = found[0];
      if (!record) throw new ConnectorError({ code: 'not_found', retryable: false, provider: PROVIDER, message: `Vonage has no record of message ${messageId} (yet)` });
      return { status: smsStatus(record.status), ...(record.error_code !== null && record.error_code !== undefined && record.error_code !== '' ? { errorCode: String(record.error_code) } : {}) };
    },

    // GET /account/get-balance: the Account API's cheapest authenticated read.
    async ping() {
      await sms.request({ method: 'GET', path: 'account/get-balance', query: { api_key: ctx.credentials.apiKey, api_secret: ctx.credentials.apiSecret } });
    },
  };
}
