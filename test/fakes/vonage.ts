import { basic, hex, json, obj, type FakeRequest, type ProviderSpec, type Reply } from '../support/fake-core';

/**
 * Vonage as the connector calls it: the SMS API (`POST /sms/json`, https://developer.vonage.com/en/api/sms,
 * credentials in the form), the Reports API's synchronous records (`GET /v2/reports/records`,
 * https://developer.vonage.com/en/api/reports, Basic auth) and the Account API's balance (the ping,
 * credentials in the query). The SMS API answers HTTP 200 with a status per message
 * (https://developer.vonage.com/en/api-errors/sms): 4 for bad credentials, 3 for invalid parameters.
 *
 * Identity of a write: `<to>|<from>|<text>`. There is no idempotency key: a repeat is a second text.
 * Every accepted message is a Reports API record with its `client_ref`, as the connector's
 * reconciliation after a crash expects.
 */

export interface VonageRecord {
  account_id: string;
  message_id: string;
  client_ref: string | null;
  direction: 'outbound';
  from: string;
  to: string;
  text: string;
  type: 'text' | 'unicode';
  status: string;
  error_code: string | null;
  date_received: string;
  product: 'SMS';
}

export interface VonageFakeState {
  records: VonageRecord[];
}

const TO = /^[1-9]\d{6,14}$/;

export function vonageSpec(): ProviderSpec {
  const apiKey = hex(4);
  const apiSecret = hex(8);
  const from = '15005550006';
  const state: VonageFakeState = { records: [] };
  const at = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const smsStatus = (status: string, text: string, to = '') => ({ 'message-count': '1', messages: [{ to, status, 'error-text': text }] });

  function send(req: FakeRequest): Reply {
    const form = obj(req.body);
    if (form.api_key !== apiKey || form.api_secret !== apiSecret) return json(200, smsStatus('4', 'Bad Credentials'), 'unauthorized');
    const to = String(form.to ?? '');
    const text = form.text;
    const ref = form['client-ref'];
    if (!TO.test(to)) return json(200, smsStatus('3', 'Invalid Message: to address is not a valid number', to), 'rejected');
    if (typeof form.from !== 'string' || form.from === '') return json(200, smsStatus('2', 'Missing from param', to), 'rejected');
    if (typeof text !== 'string' || text === '') return json(200, smsStatus('2', 'Missing text param', to), 'rejected');
    if (ref !== undefined && String(ref).length > 40) return json(200, smsStatus('3', 'Invalid client-ref: longer than 40 characters', to), 'rejected');
    const messageId = `${hex(4)}-${hex(2)}-${hex(2)}-${hex(2)}-${hex(6)}`;
    state.records.push({
      account_id: apiKey,
      message_id: messageId,
      client_ref: ref === undefined ? null : String(ref),
      direction: 'outbound',
      from: form.from,
      to,
      text,
      type: form.type === 'unicode' ? 'unicode' : 'text',
      status: 'delivered',
      error_code: null,
      date_received: at(),
      product: 'SMS',
    });
    return json(200, { 'message-count': '1', messages: [{ to, 'message-id': messageId, status: '0', 'remaining-balance': '14.62', 'message-price': '0.0079', network: '310260', ...(ref !== undefined ? { 'client-ref': ref } : {}) }] }, 'applied');
  }

  return {
    id: 'vonage',
    state,
    errorBody: (status) => ({ type: 'https://developer.vonage.com/api-errors', title: status === 404 ? 'Not Found' : 'Internal Error', detail: 'fault', instance: hex(8) }),
    integration: () => ({ provider: 'vonage', category: 'sms', auth: 'api-key', credentials: { apiKey, apiSecret }, settings: { from: `+${from}` }, routes: { sms_welcome_enabled: true } }),
    baseUrl: (url) => url,
    routes: [
      {
        method: 'POST',
        path: /^\/sms\/json$/,
        kind: 'write',
        // The form's credentials are checked by the SMS API itself, which answers 200 with status 4.
        authorize: () => undefined,
        key: (req) => {
          const form = obj(req.body);
          return `${String(form.to)}|${String(form.from)}|${String(form.text)}`;
        },
        handle: send,
      },
      {
        method: 'GET',
        path: /^\/v2\/reports\/records$/,
        kind: 'read',
        authorize(req) {
          const [user, password] = basic(req) ?? [];
          return user === apiKey && password === apiSecret ? undefined : json(401, { type: 'https://developer.vonage.com/api-errors#unauthorized', title: 'Unauthorized', detail: 'You did not provide correct credentials.' }, 'unauthorized');
        },
        handle(req) {
          const q = (k: string) => req.query.get(k);
          if (q('account_id') !== apiKey || q('product') !== 'SMS') return json(400, { type: 'https://developer.vonage.com/api-errors#bad-request', title: 'Bad Request', detail: 'account_id and product are required' }, 'rejected');
          const ids = q('id')?.split(',');
          const found = state.records.filter(
            (r) =>
              (!q('direction') || r.direction === q('direction')) &&
              (!ids || ids.includes(r.message_id)) &&
              (!q('to') || r.to === q('to')) &&
              (!q('date_start') || r.date_received >= q('date_start')!) &&
              (!q('date_end') || r.date_received <= q('date_end')!),
          );
          return json(200, { request_id: hex(8), request_status: 'SUCCESS', received_at: at(), items_count: found.length, records: found, ...(ids ? { ids_not_found: ids.filter((id) => !found.some((r) => r.message_id === id)).join(',') } : {}) }, 'read');
        },
      },
      {
        method: 'GET',
        path: /^\/account\/get-balance$/,
        kind: 'read',
        authorize: (req) =>
          req.query.get('api_key') === apiKey && req.query.get('api_secret') === apiSecret ? undefined : json(401, { 'error-code': '401', 'error-code-label': 'authentication failed' }, 'unauthorized'),
        handle: () => json(200, { value: 14.62, autoReload: false }, 'read'),
      },
    ],
  };
}
