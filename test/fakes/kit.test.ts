import type { EmailConnector } from '../../connectors/contracts';
import { connectToFake, crashOnceAfterSend, useFake } from '../support/fake-clients';
import type { KitFakeState } from './kit';

const person = { email: 'ÅSA@exämple.se', firstName: 'Åsa', lastName: 'Lindqvist' };
const fake = useFake('kit');
const state = () => fake.state as KitFakeState;

describe('Kit fake (API v4)', () => {
  it('upserts the subscriber by email; a sequence add repeated after a crash is answered 200 and leaves them in it once', async () => {
    const email = connectToFake<'email'>(fake, { guard: crashOnceAfterSend() }) as EmailConnector;
    const { subscriberId } = await email.upsertSubscriber({ person, mergeFields: { resumeUrl: 'https://app.example/resume' } }, { idempotencyKey: 'kit-1' });
    await email.upsertSubscriber({ person }, { idempotencyKey: 'kit-1b' });
    await expect(email.triggerSequence({ email: person.email, sequence: 'welcome' }, { idempotencyKey: 'kit-2' })).rejects.toThrow('worker died');
    await email.triggerSequence({ email: person.email, sequence: 'welcome' }, { idempotencyKey: 'kit-2' });

    expect(state().subscribers.get('åsa@exämple.se')).toMatchObject({ id: Number(subscriberId), first_name: 'Åsa', fields: { resume_url: 'https://app.example/resume' } });
    expect([...state().sequences.get(4101)!]).toEqual(['åsa@exämple.se']);
    expect(fake.calls().filter((c) => c.kind === 'write').map((c) => `${c.status} ${c.outcome} ${c.key}`)).toEqual([
      '201 applied subscriber:åsa@exämple.se',
      '200 reapplied subscriber:åsa@exämple.se',
      '201 applied sequence:4101:åsa@exämple.se',
      '200 deduplicated sequence:4101:åsa@exämple.se',
    ]);
    expect(fake.duplicates()).toEqual([]);
  });

  it('tags by name (find or create) and untags; removing a tag the subscriber does not have is fine', async () => {
    const email = connectToFake<'email'>(fake) as EmailConnector;
    await email.upsertSubscriber({ person }, { idempotencyKey: 'kit-3' });
    await email.addTags({ email: person.email, tags: ['tour-completed', 'Tour-Completed '] }, { idempotencyKey: 'kit-4' });
    expect([...state().tags.get('tour-completed')!.subscribers]).toEqual(['åsa@exämple.se']);
    await email.removeTags({ email: person.email, tags: ['tour-completed', 'never-added'] }, { idempotencyKey: 'kit-5' });
    expect(state().tags.get('tour-completed')!.subscribers.size).toBe(0);
  });

  it('refuses a wrong API key (401) and a subscriber it does not know in a sequence (404)', async () => {
    const wrong = connectToFake<'email'>(fake, { credentials: { apiKey: 'kit_wrong_key_0000' } }) as EmailConnector;
    await expect(wrong.ping()).rejects.toMatchObject({ code: 'unauthorized', retryable: false, status: 401, message: 'kit answered 401: The access token is invalid' });
    const email = connectToFake<'email'>(fake) as EmailConnector;
    await expect(email.triggerSequence({ email: 'nobody@example.com', sequence: 'welcome' }, { idempotencyKey: 'kit-6' })).rejects.toMatchObject({ code: 'not_found', retryable: false });
    await expect(email.ping()).resolves.toBeUndefined();
  });
});
