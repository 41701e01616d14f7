import type { SmsConnector } from '../../connectors/contracts';
import { reference } from '../../connectors/sms/bird/mapping';
import { connectToFake, crashOnceAfterSend, useFake } from '../support/fake-clients';
import type { BirdFakeState } from './bird';

const fake = useFake('bird');
const state = () => fake.state as BirdFakeState;

describe('Bird fake (Channels API)', () => {
  it('sends on the channel to the E.164 receiver; a send cut off by a crash is found by its reference and not sent again', async () => {
    const sms = connectToFake<'sms'>(fake, { guard: crashOnceAfterSend() }) as SmsConnector;
    const input = { to: '+44 20 7946 0958 #99', body: 'Welcome aboard, 李娜! 🎉' };
    await expect(sms.sendMessage(input, { idempotencyKey: 'bd-1' })).rejects.toThrow('worker died');
    const { messageId } = await sms.sendMessage(input, { idempotencyKey: 'bd-1' });

    expect(state().messages).toEqual([expect.objectContaining({ id: messageId, reference: reference('bd-1'), receiver: { contacts: [expect.objectContaining({ identifierValue: '+442079460958' })] } })]);
    expect(fake.countsByKey().get('+442079460958|Welcome aboard, 李娜! 🎉')).toBe(1);
    expect(fake.calls().map((c) => `${c.method} ${c.status}`)).toEqual(['POST 202', 'GET 200']);
    await expect(sms.getDeliveryStatus(messageId)).resolves.toEqual({ status: 'sent' });
  });

  it('refuses a wrong access key (401) and a channel that is not in the workspace (404)', async () => {
    const wrong = connectToFake<'sms'>(fake, { credentials: { accessKey: 'w'.repeat(40) } }) as SmsConnector;
    await expect(wrong.ping()).rejects.toMatchObject({ code: 'unauthorized', retryable: false, status: 401 });
    const elsewhere = connectToFake<'sms'>(fake, { settings: { channelId: '00000000-0000-4000-8000-000000000000' } }) as SmsConnector;
    await expect(elsewhere.ping()).rejects.toMatchObject({ code: 'not_found', retryable: false, status: 404 });
    await expect((connectToFake<'sms'>(fake) as SmsConnector).ping()).resolves.toBeUndefined();
  });
});
