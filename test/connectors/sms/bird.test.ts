import { useNock } from '../../support/nock';
import nock from 'nock';
import { bird } from '../../../connectors/sms/bird';
import { reference } from '../../../connectors/sms/bird/mapping';
import { context, memoryGuard } from '../../support/connectors';
import { ERROR_CASES, expectClassified } from '../error-table';

// Shapes from https://docs.bird.com/api/channels-api/api-reference/messaging (send, get, list a channel's messages).
const API = 'https://api.bird.com';
const WS = '8c5b5c5e-3a4b-4f6e-9a1b-2c3d4e5f6a7b';
const CH = '1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a';
const PATH = `/workspaces/${WS}/channels/${CH}`;
const KEY = 'bird-access-key-0123456789';
const json = { 'content-type': 'application/json' };

function setup() {
  const guard = memoryGuard();
  return { guard, sms: bird.create(context(bird, { accessKey: KEY }, { workspaceId: WS, channelId: CH }, { guard })) };
}
const api = () => nock(API, { reqheaders: { authorization: `AccessKey ${KEY}` } });

useNock({ assertDone: true });

describe('Bird connector', () => {
  it('sendMessage posts a text message to the channel with the receiver in E.164 and our reference', async () => {
    const { sms, guard } = setup();
    api()
      .post(`${PATH}/messages`, {
        receiver: { contacts: [{ identifierKey: 'phonenumber', identifierValue: '+447700900123' }] },
        body: { type: 'text', text: { text: 'Welcome aboard!' } },
        reference: reference('k1'),
      })
      .reply(202, { id: 'msg-1', status: 'accepted', reference: reference('k1') }, json);
    await expect(sms.sendMessage({ to: '+44 7700 900123', body: 'Welcome aboard!' }, { idempotencyKey: 'k1' })).resolves.toEqual({ messageId: 'msg-1', status: 'queued' });
    expect(guard.records.get('k1')).toEqual({ state: 'sent', reference: 'msg-1' });
  });

  it('makes no call for a key already sent', async () => {
    const { sms, guard } = setup();
    await guard.markSent('k2', 'msg-earlier');
    await expect(sms.sendMessage({ to: '+447700900123', body: 'x' }, { idempotencyKey: 'k2' })).resolves.toEqual({ messageId: 'msg-earlier', status: 'unknown' });
  });

  it('after a crash mid-call finds the earlier message by reference and does not send again', async () => {
    const { sms, guard } = setup();
    await guard.markAttempted('k3');
    api()
      .get(`${PATH}/messages`)
      .query({ limit: '100', direction: 'outgoing' })
      .reply(200, { results: [{ id: 'msg-first', reference: reference('k3'), status: 'delivered', receiver: { contacts: [{ identifierValue: '+447700900123' }] } }] }, json);
    await expect(sms.sendMessage({ to: '+447700900123', body: 'x' }, { idempotencyKey: 'k3' })).resolves.toEqual({ messageId: 'msg-first', status: 'unknown' });
    expect(guard.records.get('k3')).toEqual({ state: 'sent', reference: 'msg-first' });
  });

  it('after a crash mid-call sends again when no message carries our reference', async () => {
    const { sms, guard } = setup();
    await guard.markAttempted('k4');
    api().get(`${PATH}/messages`).query(true).reply(200, { results: [] }, json);
    api().post(`${PATH}/messages`).reply(202, { id: 'msg-2', status: 'accepted' }, json);
    await expect(sms.sendMessage({ to: '+447700900123', body: 'x' }, { idempotencyKey: 'k4' })).resolves.toMatchObject({ messageId: 'msg-2' });
  });

  it('getDeliveryStatus reads the message', async () => {
    const { sms } = setup();
    api().get(`${PATH}/messages/msg-1`).reply(200, { id: 'msg-1', status: 'delivery_failed', reason: 'unreachable' }, json);
    await expect(sms.getDeliveryStatus('msg-1')).resolves.toEqual({ status: 'undelivered', errorCode: 'unreachable' });
  });

  it('ping reads the channel', async () => {
    const { sms } = setup();
    api().get(PATH).reply(200, { id: CH, platformId: 'sms-messagebird', status: 'active' }, json);
    await sms.ping();
  });

  describe('error classifier', () => {
    it.each(ERROR_CASES)('$name', (c) => expectClassified('bird', () => nock(API).post(`${PATH}/messages`), () => setup().sms.sendMessage({ to: '+447700900123', body: 'x' }, { idempotencyKey: `e-${c.name}` }), c));
  });
});
