import { useNock } from '../../support/nock';
import nock from 'nock';
import { vonage } from '../../../connectors/sms/vonage';
import { clientRef, smsResult, statusError } from '../../../connectors/sms/vonage/mapping';
import { context, memoryGuard } from '../../support/connectors';
import { ERROR_CASES, expectClassified } from '../error-table';

// Shapes from https://developer.vonage.com/en/api/sms (POST /sms/json), https://developer.vonage.com/en/api-errors/sms,
// https://developer.vonage.com/en/api/reports (GET /v2/reports/records) and the Account API's get-balance.
const SMS = 'https://rest.nexmo.com';
const REPORTS = 'https://api.nexmo.com';
const creds = { apiKey: 'abcd1234', apiSecret: 'secret-value-1' };
const basic = `Basic ${Buffer.from('abcd1234:secret-value-1').toString('base64')}`;

function setup() {
  const guard = memoryGuard();
  const sms = vonage.create(context(vonage, creds, { from: '15005550006' }, { guard }));
  return { guard, sms };
}
const accepted = (id: string) => ({ 'message-count': '1', messages: [{ to: '14155550123', 'message-id': id, status: '0', 'remaining-balance': '1.0', 'message-price': '0.01', network: '310260' }] });

useNock({ assertDone: true });

describe('Vonage connector', () => {
  it('sendMessage posts the form to /sms/json with E.164 digits, the text and a client-ref, and records the send', async () => {
    const { sms, guard } = setup();
    nock(SMS)
      .post('/sms/json', { api_key: 'abcd1234', api_secret: 'secret-value-1', from: '15005550006', to: '14155550123', text: 'Welcome aboard!', 'client-ref': clientRef('k1') })
      .matchHeader('content-type', 'application/x-www-form-urlencoded')
      .reply(200, accepted('0A0000001'), { 'content-type': 'application/json' });
    await expect(sms.sendMessage({ to: '+1 (415) 555-0123 ext. 9', body: 'Welcome aboard!' }, { idempotencyKey: 'k1' })).resolves.toEqual({ messageId: '0A0000001', status: 'queued' });
    expect(guard.records.get('k1')).toEqual({ state: 'sent', reference: '0A0000001' });
  });

  it('sends a text outside GSM-7 (a name in another script) as type=unicode', async () => {
    const { sms } = setup();
    nock(SMS).post('/sms/json', (b) => b.type === 'unicode' && b.text === 'Добро пожаловать, Анна!').reply(200, accepted('0A2'), { 'content-type': 'application/json' });
    await sms.sendMessage({ to: '+447700900123', body: 'Добро пожаловать, Анна!' }, { idempotencyKey: 'k-u' });
  });

  it('makes no call for a key already sent', async () => {
    const { sms, guard } = setup();
    await guard.markSent('k2', '0A-earlier');
    await expect(sms.sendMessage({ to: '+14155550123', body: 'x' }, { idempotencyKey: 'k2' })).resolves.toEqual({ messageId: '0A-earlier', status: 'unknown' });
  });

  it('after a crash mid-call finds the earlier send by client-ref in the Reports API and does not send again', async () => {
    const { sms, guard } = setup();
    await guard.markAttempted('k3');
    nock(REPORTS, { reqheaders: { authorization: basic } })
      .get('/v2/reports/records')
      .query((q) => q.account_id === 'abcd1234' && q.product === 'SMS' && q.direction === 'outbound' && q.to === '14155550123' && typeof q.date_start === 'string')
      .reply(200, { records: [{ message_id: '0A-first', client_ref: clientRef('k3'), status: 'delivered' }] }, { 'content-type': 'application/json' });
    await expect(sms.sendMessage({ to: '+14155550123', body: 'x' }, { idempotencyKey: 'k3' })).resolves.toEqual({ messageId: '0A-first', status: 'unknown' });
    expect(guard.records.get('k3')).toEqual({ state: 'sent', reference: '0A-first' });
  });

  it('after a crash mid-call sends again when the Reports API has no record with our client-ref', async () => {
    const { sms } = setup();
    const guard = memoryGuard();
    await guard.markAttempted('k4');
    const again = vonage.create(context(vonage, creds, { from: '15005550006' }, { guard }));
    nock(REPORTS).get('/v2/reports/records').query(true).reply(200, { records: [{ message_id: 'other', client_ref: 'someone-else' }] }, { 'content-type': 'application/json' });
    nock(SMS).post('/sms/json').reply(200, accepted('0A-second'), { 'content-type': 'application/json' });
    await expect(again.sendMessage({ to: '+14155550123', body: 'x' }, { idempotencyKey: 'k4' })).resolves.toMatchObject({ messageId: '0A-second' });
    void sms;
  });

  it('refuses a recipient that is not a phone number without calling Vonage', async () => {
    const { sms } = setup();
    await expect(sms.sendMessage({ to: 'call me', body: 'x' }, { idempotencyKey: 'k5' })).rejects.toMatchObject({ code: 'bad_request', retryable: false });
  });

  it('getDeliveryStatus reads the record by id', async () => {
    const { sms } = setup();
    nock(REPORTS, { reqheaders: { authorization: basic } })
      .get('/v2/reports/records')
      .query({ account_id: 'abcd1234', product: 'SMS', direction: 'outbound', id: '0A1' })
      .reply(200, { records: [{ message_id: '0A1', status: 'failed', error_code: '6' }] }, { 'content-type': 'application/json' });
    await expect(sms.getDeliveryStatus('0A1')).resolves.toEqual({ status: 'failed', errorCode: '6' });
  });

  it('ping reads the balance', async () => {
    const { sms } = setup();
    nock(SMS).get('/account/get-balance').query({ api_key: 'abcd1234', api_secret: 'secret-value-1' }).reply(200, { value: 10.5, autoReload: false }, { 'content-type': 'application/json' });
    await sms.ping();
  });

  describe('error classifier: HTTP statuses', () => {
    it.each(ERROR_CASES)('$name', (c) => expectClassified('vonage', () => nock(SMS).post('/sms/json'), () => setup().sms.sendMessage({ to: '+14155550123', body: 'x' }, { idempotencyKey: `e-${c.name}` }), c));
  });

  describe('error classifier: statuses in a 200 answer', () => {
    it.each([
      ['0', undefined],
      ['1', { code: 'rate_limited', retryable: true }],
      ['2', { code: 'bad_request', retryable: false }],
      ['3', { code: 'bad_request', retryable: false }],
      ['4', { code: 'unauthorized', retryable: false }],
      ['5', { code: 'provider_unavailable', retryable: true }],
      ['6', { code: 'bad_request', retryable: false }],
      ['7', { code: 'bad_request', retryable: false }],
      ['8', { code: 'forbidden', retryable: false }],
      ['9', { code: 'forbidden', retryable: false }],
      ['29', { code: 'bad_request', retryable: false }],
    ] as const)('status %s', (status, expected) => {
      const body = { messages: [{ status, 'message-id': 'id-1', 'error-text': 'why' }] };
      if (expected === undefined) expect(smsResult(body)).toBe('id-1');
      else expect(() => smsResult(body)).toThrow(expect.objectContaining(expected));
      if (expected) expect(statusError(status, 'why')).toMatchObject({ provider: 'vonage', ...expected });
    });
  });
});
