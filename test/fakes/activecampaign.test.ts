import type { EmailConnector } from '../../connectors/contracts';
import { connectToFake, crashOnceAfterSend, useFake } from '../support/fake-clients';
import type { ActiveCampaignFakeState } from './activecampaign';

const person = { email: 'Ada@Example.com', firstName: 'Ada', lastName: 'Lovelace', phone: '(020) 7946 0958 x12' };
const fake = useFake('activecampaign');
const state = () => fake.state as ActiveCampaignFakeState;

describe('ActiveCampaign fake (API v3)', () => {
  it('syncs the contact and its list membership; an automation entry cut off by a crash is found, not entered twice', async () => {
    const email = connectToFake<'email'>(fake, { guard: crashOnceAfterSend() }) as EmailConnector;
    const { subscriberId } = await email.upsertSubscriber({ person, mergeFields: { resumeUrl: 'https://app.example/r' } }, { idempotencyKey: 'ac-1' });
    await expect(email.triggerSequence({ email: person.email, sequence: 'welcome' }, { idempotencyKey: 'ac-2' })).rejects.toThrow('worker died');
    await email.triggerSequence({ email: person.email, sequence: 'welcome' }, { idempotencyKey: 'ac-2' });

    expect(state().contacts.get('ada@example.com')).toMatchObject({ id: subscriberId, firstName: 'Ada', fieldValues: [{ field: '12', value: 'https://app.example/r' }] });
    expect(state().contactAutomations).toEqual([{ id: expect.any(String), contact: subscriberId, automation: '31' }]);
    expect(fake.effects().get(`automation:31:${subscriberId}`)).toBe(1);
    expect(fake.effects().get(`list:7:${subscriberId}`)).toBe(1);
    expect(fake.duplicates()).toEqual([]);
  });

  it('shows a second entry into an automation as the duplicate it is (two keys for one couple)', async () => {
    const email = connectToFake<'email'>(fake) as EmailConnector;
    await email.upsertSubscriber({ person: { email: 'grace@example.com' } }, { idempotencyKey: 'ac-3' });
    await email.triggerSequence({ email: 'grace@example.com', sequence: 're-engagement' }, { idempotencyKey: 'ac-4' });
    await email.triggerSequence({ email: 'grace@example.com', sequence: 're-engagement' }, { idempotencyKey: 'ac-5' });
    expect(fake.duplicates().map((d) => d.key)).toEqual([expect.stringMatching(/^automation:32:\d+$/)]);
  });

  it('tags and untags by name', async () => {
    const email = connectToFake<'email'>(fake) as EmailConnector;
    await email.addTags({ email: person.email, tags: ['tour-completed'] }, { idempotencyKey: 'ac-6' });
    const contact = String(state().contacts.get('ada@example.com')!.id);
    expect([...state().contactTags.values()]).toEqual([expect.objectContaining({ contact })]);
    await email.removeTags({ email: person.email, tags: ['tour-completed'] }, { idempotencyKey: 'ac-7' });
    expect(state().contactTags.size).toBe(0);
  });

  it('refuses a wrong API token with 403', async () => {
    const wrong = connectToFake<'email'>(fake, { credentials: { apiToken: 'w'.repeat(40) } }) as EmailConnector;
    await expect(wrong.ping()).rejects.toMatchObject({ code: 'forbidden', retryable: false, status: 403 });
    await expect((connectToFake<'email'>(fake) as EmailConnector).ping()).resolves.toBeUndefined();
  });
});
