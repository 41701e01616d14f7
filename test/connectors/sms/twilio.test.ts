import { useNock } from '../../support/nock';
import nock from 'nock';
import type { DeliveryGuard } from '../../../connectors/contracts';
import { twilio } from '../../../connectors/sms/twilio';
import { findEarlierSend, messageForm, reconcileQuery, smsStatus, type TwilioMessage } from '../../../connectors/sms/twilio/mapping';
import { context, memoryGuard, connectorFailure } from '../../support/connectors';

// Request shapes from https://www.twilio.com/docs/messaging/api/message-resource (create, fetch, read
// with To/From/DateSent filters), https://www.twilio.com/docs/iam/api/account (fetch) and
// https://www.twilio.com/docs/usage/requests-to-twilio (HTTP basic auth, form-encoded bodies).
const API = 'https://api.twilio.com';
const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';
const KEY_SID = 'SK0123456789abcdef0123456789abcdef';
const SERVICE = 'MG0123456789abcdef0123456789abcdef';
const MESSAGES = `/2010-04-01/Accounts/${ACCOUNT}/Messages.json`;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const KEY_AUTH = basic(KEY_SID, 'key-secret');
const TOKEN_AUTH = basic(ACCOUNT, 'auth-token');
const FROM = '+15555550100';
const TO = '+15555550199';
const BODY = 'Welcome, Jane! Your planner will be in touch about 12 June.';
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const json = { 'content-type': 'application/json' };

function connector(opts: { settings?: Record<string, unknown>; guard?: DeliveryGuard; timeoutMs?: number; token?: boolean; baseUrl?: string } = {}) {
  const credentials = opts.token ? { accountSid: ACCOUNT, authToken: 'auth-token' } : { accountSid: ACCOUNT, apiKeySid: KEY_SID, apiKeySecret: 'key-secret' };
  const settings = twilio.settingsSchema.parse(opts.settings ?? { from: FROM, statusCallbackUrl: 'https://hooks.tourhub.example/twilio/status' });
  return twilio.create(
    context(twilio, credentials, settings, {
      ...(opts.guard ? { guard: opts.guard } : {}),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
    }),
  );
}

function api(auth = KEY_AUTH, base = API, headers: Record<string, string> = {}) {
  return nock(base, { reqheaders: { authorization: auth, accept: 'application/json', ...headers } });
}

function message(fields: Partial<TwilioMessage> = {}): TwilioMessage {
  return {
    sid: 'SM00000000000000000000000000000001',
    status: 'queued',
    body: BODY,
    to: TO,
    from: FROM,
    direction: 'outbound-api',
    messaging_service_sid: null,
    date_created: 'Mon, 23 Nov 2026 11:59:58 +0000',
    date_sent: null,
    error_code: null,
    ...fields,
  };
}


useNock();

describe('twilio connector requests', () => {
  it('sendMessage POSTs To, From, Body and StatusCallback form-encoded and records the sid', async () => {
    const guard = memoryGuard();
    const scope = api(KEY_AUTH, API, form)
      .post(MESSAGES, { To: TO, From: FROM, Body: BODY, StatusCallback: 'https://hooks.tourhub.example/twilio/status' })
      .reply(201, message(), json);

    const result = await connector({ guard }).sendMessage({ to: TO, body: BODY }, { idempotencyKey: 'evt-1:sms' });

    expect(result).toEqual({ messageId: 'SM00000000000000000000000000000001', status: 'queued' });
    expect(guard.records.get('evt-1:sms')).toEqual({ state: 'sent', reference: 'SM00000000000000000000000000000001' });
    expect(scope.isDone()).toBe(true);
  });

  it('sendMessage through a Messaging Service sends MessagingServiceSid instead of From (Account SID + Auth Token auth)', async () => {
    const scope = api(TOKEN_AUTH, API, form)
      .post(MESSAGES, { To: TO, MessagingServiceSid: SERVICE, Body: BODY })
      .reply(201, message({ status: 'accepted', from: null, messaging_service_sid: SERVICE }), json);

    const result = await connector({ token: true, settings: { messagingServiceSid: SERVICE } }).sendMessage({ to: TO, body: BODY }, { idempotencyKey: 'evt-2' });

    expect(result.status).toBe('queued');
    expect(scope.isDone()).toBe(true);
  });

  it('a second send with the same key makes no HTTP call', async () => {
    const guard = memoryGuard();
    const scope = api().post(MESSAGES).once().reply(201, message(), json);
    const sms = connector({ guard });

    await sms.sendMessage({ to: TO, body: BODY }, { idempotencyKey: 'evt-3' });
    const again = await sms.sendMessage({ to: TO, body: BODY }, { idempotencyKey: 'evt-3' });

    expect(again).toEqual({ messageId: 'SM00000000000000000000000000000001', status: 'unknown' });
    expect(scope.isDone()).toBe(true);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('after a crash mid-call (guard says attempted) finds the message Twilio already has and does not resend', async () => {
    const guard = memoryGuard();
    await guard.markAttempted('evt-4');
    const scope = api()
      .get(MESSAGES)
      .query({ To: TO, From: FROM, 'DateSent>': '2026-11-22', PageSize: '50' })
      .reply(200, { messages: [message({ sid: 'SM_other', body: 'Something else' }), message({ sid: 'SM_earlier', status: 'delivered', date_sent: 'Mon, 23 Nov 2026 11:59:59 +0000' })] }, json);

    const result = await connector({ guard }).sendMessage({ to: TO, body: BODY }, { idempotencyKey: 'evt-4' });

    expect(result).toEqual({ messageId: 'SM_earlier', status: 'delivered' });
    expect(guard.records.get('evt-4')).toEqual({ state: 'sent', reference: 'SM_earlier' });
    expect(scope.isDone()).toBe(true);
  });

  it('after a crash mid-call with no matching message on Twilio, sends it', async () => {
    const guard = memoryGuard();
    await guard.markAttempted('evt-5');
    const scope = api()
      .get(MESSAGES)
      .query({ To: TO, From: FROM, 'DateSent>': '2026-11-22', PageSize: '50' })
      .reply(200, { messages: [message({ sid: 'SM_inbound', direction: 'inbound', to: TO })] }, json)
      .post(MESSAGES, { To: TO, From: FROM, Body: BODY, StatusCallback: 'https://hooks.tourhub.example/twilio/status' })
      .reply(201, message({ sid: 'SM_new' }), json);

    const result = await connector({ guard }).sendMessage({ to: TO, body: BODY }, { idempotencyKey: 'evt-5' });

    expect(result.messageId).toBe('SM_new');
    expect(guard.records.get('evt-5')).toEqual({ state: 'sent', reference: 'SM_new' });
    expect(scope.isDone()).toBe(true);
  });

  it('reconciles a Messaging Service send by To and the service sid (Twilio cannot filter on the service)', async () => {
    const guard = memoryGuard();
    await guard.markAttempted('evt-6');
    const scope = api()
      .get(MESSAGES)
      .query({ To: TO, 'DateSent>': '2026-11-22', PageSize: '50' })
      .reply(200, { messages: [message({ sid: 'SM_svc', from: '+15555550111', messaging_service_sid: SERVICE, status: 'sent' })] }, json);

    const result = await connector({ guard, settings: { messagingServiceSid: SERVICE } }).sendMessage({ to: TO, body: BODY }, { idempotencyKey: 'evt-6' });

    expect(result).toEqual({ messageId: 'SM_svc', status: 'sent' });
    expect(scope.isDone()).toBe(true);
  });

  it('a refused send leaves the delivery attempted, so the retry reconciles first', async () => {
    const guard = memoryGuard();
    const scope = api().post(MESSAGES).reply(429, { code: 20429, message: 'Too Many Requests', status: 429 }, json);

    const err = await connectorFailure(connector({ guard }).sendMessage({ to: TO, body: BODY }, { idempotencyKey: 'evt-7' }));

    expect(err).toMatchObject({ code: 'rate_limited', retryable: true });
    expect(guard.records.get('evt-7')).toEqual({ state: 'attempted' });
    expect(scope.isDone()).toBe(true);
  });

  it('getDeliveryStatus fetches the message and reports its status and error code', async () => {
    const scope = api()
      .get(`/2010-04-01/Accounts/${ACCOUNT}/Messages/SM1.json`)
      .reply(200, message({ sid: 'SM1', status: 'undelivered', error_code: 30003 }), json)
      .get(`/2010-04-01/Accounts/${ACCOUNT}/Messages/SM2.json`)
      .reply(200, message({ sid: 'SM2', status: 'delivered' }), json);

    await expect(connector().getDeliveryStatus('SM1')).resolves.toEqual({ status: 'undelivered', errorCode: '30003' });
    await expect(connector().getDeliveryStatus('SM2')).resolves.toEqual({ status: 'delivered' });
    expect(scope.isDone()).toBe(true);
  });

  it('ping fetches the account', async () => {
    const scope = api().get(`/2010-04-01/Accounts/${ACCOUNT}.json`).reply(200, { sid: ACCOUNT, status: 'active' }, json);
    await connector().ping();
    expect(scope.isDone()).toBe(true);
  });

  it('uses the deployment’s base URL for twilio (a loopback fake or a Twilio Region)', async () => {
    const scope = api(KEY_AUTH, 'http://127.0.0.1:4011').get(`/2010-04-01/Accounts/${ACCOUNT}.json`).reply(200, { sid: ACCOUNT }, json);
    await connector({ settings: { from: FROM }, baseUrl: 'http://127.0.0.1:4011' }).ping();
    expect(scope.isDone()).toBe(true);
  });
});

describe('twilio error mapping', () => {
  type Case = { name: string; reply: (i: nock.Interceptor) => nock.Scope; timeoutMs?: number; expected: { code: string; retryable: boolean; status?: number; retryAfterMs?: number } };
  const twilioError = (status: number, code: number, text: string) => ({ code, message: text, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
  const cases: Case[] = [
    { name: '400', reply: (i) => i.reply(400, twilioError(400, 21211, "Invalid 'To' Phone Number"), json), expected: { code: 'bad_request', retryable: false, status: 400 } },
    { name: '401', reply: (i) => i.reply(401, twilioError(401, 20003, 'Authenticate'), json), expected: { code: 'unauthorized', retryable: false, status: 401 } },
    { name: '403', reply: (i) => i.reply(403, twilioError(403, 20003, 'Permission Denied'), json), expected: { code: 'forbidden', retryable: false, status: 403 } },
    { name: '404', reply: (i) => i.reply(404, twilioError(404, 20404, 'The requested resource was not found'), json), expected: { code: 'not_found', retryable: false, status: 404 } },
    { name: '409', reply: (i) => i.reply(409, twilioError(409, 20409, 'Conflict'), json), expected: { code: 'conflict', retryable: false, status: 409 } },
    { name: '422', reply: (i) => i.reply(422, twilioError(422, 20422, 'Invalid Parameter'), json), expected: { code: 'unprocessable', retryable: false, status: 422 } },
    { name: '429 without Retry-After', reply: (i) => i.reply(429, twilioError(429, 20429, 'Too Many Requests'), json), expected: { code: 'rate_limited', retryable: true, status: 429 } },
    {
      name: '429 with Retry-After',
      reply: (i) => i.reply(429, twilioError(429, 20429, 'Too Many Requests'), { ...json, 'Retry-After': '3' }),
      expected: { code: 'rate_limited', retryable: true, status: 429, retryAfterMs: 3000 },
    },
    { name: '500', reply: (i) => i.reply(500, twilioError(500, 20500, 'Internal Server Error'), json), expected: { code: 'provider_unavailable', retryable: true, status: 500 } },
    { name: '502', reply: (i) => i.reply(502, 'Bad Gateway', { 'content-type': 'text/plain' }), expected: { code: 'provider_unavailable', retryable: true, status: 502 } },
    { name: '503', reply: (i) => i.reply(503, twilioError(503, 20503, 'Service Unavailable'), json), expected: { code: 'provider_unavailable', retryable: true, status: 503 } },
    { name: 'connection reset', reply: (i) => i.replyWithError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), expected: { code: 'network', retryable: true } },
    { name: 'timeout', timeoutMs: 50, reply: (i) => i.delay(500).reply(200, message(), json), expected: { code: 'timeout', retryable: true } },
  ];

  it.each(cases)('$name -> $expected.code', async ({ reply, timeoutMs, expected }) => {
    const scope = reply(api().get(`/2010-04-01/Accounts/${ACCOUNT}/Messages/SM1.json`));

    const err = await connectorFailure(connector(timeoutMs ? { timeoutMs } : {}).getDeliveryStatus('SM1'));

    expect(err.provider).toBe('twilio');
    expect({ code: err.code, retryable: err.retryable, status: err.status, retryAfterMs: err.retryAfterMs }).toEqual({ status: undefined, retryAfterMs: undefined, ...expected });
    expect(scope.isDone()).toBe(true);
  });
});

describe('twilio mapping', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');

  it('maps Twilio statuses to ours', () => {
    expect(['accepted', 'scheduled', 'queued', 'sending', 'sent', 'delivered', 'read', 'undelivered', 'failed', 'canceled', 'received', null].map(smsStatus)).toEqual([
      'queued',
      'queued',
      'queued',
      'sending',
      'sent',
      'delivered',
      'delivered',
      'undelivered',
      'failed',
      'failed',
      'unknown',
      'unknown',
    ]);
  });

  it('builds the create form for a number or a Messaging Service', () => {
    expect(messageForm({ to: TO, body: 'hi' }, { from: FROM })).toEqual({ To: TO, From: FROM, Body: 'hi' });
    expect(messageForm({ to: TO, body: 'hi' }, { messagingServiceSid: SERVICE }, 'https://cb')).toEqual({ To: TO, MessagingServiceSid: SERVICE, Body: 'hi', StatusCallback: 'https://cb' });
  });

  it('looks back from the UTC day before, so a crash just before midnight UTC is found after it', () => {
    expect(reconcileQuery(TO, { from: FROM }, Date.parse('2026-11-24T00:00:05Z'))).toEqual({ To: TO, From: FROM, 'DateSent>': '2026-11-23', PageSize: '50' });
  });

  it('matches only an outbound message with the same body, recipient and sender, created within 24 hours', () => {
    const input = { to: TO, body: BODY };
    expect(findEarlierSend([message()], input, { from: FROM }, now)?.sid).toBe('SM00000000000000000000000000000001');
    expect(findEarlierSend([message({ body: `${BODY} ` })], input, { from: FROM }, now)).toBeUndefined();
    expect(findEarlierSend([message({ direction: 'inbound' })], input, { from: FROM }, now)).toBeUndefined();
    expect(findEarlierSend([message({ from: '+15555550111' })], input, { from: FROM }, now)).toBeUndefined();
    expect(findEarlierSend([message({ date_created: 'Sat, 21 Nov 2026 11:00:00 +0000' })], input, { from: FROM }, now)).toBeUndefined();
    expect(findEarlierSend([message({ messaging_service_sid: SERVICE, from: '+1999' })], input, { messagingServiceSid: SERVICE }, now)).toBeDefined();
  });

  it('requires exactly one of from and messagingServiceSid, and a SID-shaped credential', () => {
    expect(twilio.settingsSchema.safeParse({}).success).toBe(false);
    expect(twilio.settingsSchema.safeParse({ from: FROM, messagingServiceSid: SERVICE }).success).toBe(false);
    expect(twilio.settingsSchema.safeParse({ messagingServiceSid: SERVICE }).success).toBe(true);
    expect(twilio.credentialsSchema.safeParse({ accountSid: ACCOUNT, authToken: 't' }).success).toBe(true);
    expect(twilio.credentialsSchema.safeParse({ accountSid: 'nope', authToken: 't' }).success).toBe(false);
  });
});
