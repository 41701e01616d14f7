import type { SmsConnector } from '../../connectors/contracts';
import { clientRef } from '../../connectors/sms/vonage/mapping';
import { connectToFake, crashOnceAfterSend, useFake } from '../support/fake-clients';
import type { VonageFakeState } from './vonage';

const fake = useFake('vonage');
const state = () => fake.state as VonageFakeState;

describe('Vonage fake (SMS, Reports and Account APIs)', () => {
  it('sends to the E.164 digits; a send cut off by a crash is found in the Reports API by client-ref and not sent again', async () => {
    const sms = connectToFake<'sms'>(fake, { guard: crashOnceAfterSend() }) as SmsConnector;
    const input = { to: '+1 (415) 555-0123 ext. 1234', body: 'Добро пожаловать, Анна!' };
    await expect(sms.sendMessage(input, { idempotencyKey: 'vn-1' })).rejects.toThrow('worker died');
    const { messageId } = await sms.sendMessage(input, { idempotencyKey: 'vn-1' });

    expect(state().records).toEqual([expect.objectContaining({ message_id: messageId, to: '14155550123', from: '15005550006', client_ref: clientRef('vn-1'), type: 'unicode' })]);
    expect(fake.countsByKey().get('14155550123|15005550006|Добро пожаловать, Анна!')).toBe(1);
    expect(fake.calls().map((c) => `${c.method} ${c.path} ${c.outcome}`)).toEqual(['POST /sms/json applied', 'GET /v2/reports/records read']);
    await expect(sms.getDeliveryStatus(messageId)).resolves.toEqual({ status: 'delivered' });
  });

  it('shows two sends of one text as the duplicate it is (no idempotency key at Vonage)', async () => {
    const sms = connectToFake<'sms'>(fake) as SmsConnector;
    await sms.sendMessage({ to: '+447700900123', body: 'Hello' }, { idempotencyKey: 'vn-2' });
    await sms.sendMessage({ to: '+447700900123', body: 'Hello' }, { idempotencyKey: 'vn-3' });
    expect(fake.duplicates().map((d) => d.key)).toEqual(['447700900123|15005550006|Hello']);
  });

  it('answers a wrong secret with status 4 on a send and 401 on the balance (the ping)', async () => {
    const wrong = connectToFake<'sms'>(fake, { credentials: { apiSecret: 'wrong-secret' } }) as SmsConnector;
    await expect(wrong.sendMessage({ to: '+447700900123', body: 'x' }, { idempotencyKey: 'vn-4' })).rejects.toMatchObject({ code: 'unauthorized', retryable: false });
    await expect(wrong.ping()).rejects.toMatchObject({ code: 'unauthorized', retryable: false, status: 401 });
    await expect((connectToFake<'sms'>(fake) as SmsConnector).ping()).resolves.toBeUndefined();
  });
});
