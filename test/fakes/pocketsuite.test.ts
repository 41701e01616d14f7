import type { CrmConnector } from '../../connectors/contracts';
import { connectToFake, crashOnceAfterSend, useFake } from '../support/fake-clients';
import type { PocketSuiteFakeState } from './pocketsuite';

const person = { email: 'Ada@Example.com', firstName: 'Ada', lastName: 'Lovelace', phone: '+1 (415) 555-0123 ext. 1234', externalId: 'user-1' };
const fake = useFake('pocketsuite');

describe('PocketSuite fake (a Zapier catch hook and its Zap)', () => {
  it('takes every CRM write as a signed envelope; a post repeated after a crash is dropped by the Zap, and PocketSuite holds one client with its notes', async () => {
    const crm = connectToFake<'crm'>(fake, { guard: crashOnceAfterSend() }) as CrmConnector;
    const activity = { person, type: 'tour_started', title: 'Started', description: 'Began the tour.', occurredAt: '2026-11-23T12:00:00.000Z' };
    await expect(crm.logActivity(activity, { idempotencyKey: 'ps-1' })).rejects.toThrow('worker died');
    await expect(crm.logActivity(activity, { idempotencyKey: 'ps-1' })).resolves.toEqual({ activityId: expect.stringMatching(/^request:/) });
    await crm.createTask({ person, title: 'Follow up', dueDate: '2026-11-30', priority: 'normal' }, { idempotencyKey: 'ps-2' });
    await crm.addNote({ person, body: 'Loved the tour' }, { idempotencyKey: 'ps-3' });

    expect(fake.countsByKey().get('ps-1')).toBe(2);
    expect(Object.fromEntries(fake.effects())).toEqual({ 'ps-1': 1, 'ps-2': 1, 'ps-3': 1 });
    expect(fake.duplicates()).toEqual([]);
    const client = (fake.state as PocketSuiteFakeState).clients.get('ada@example.com');
    expect(client).toMatchObject({ email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', phone: '+14155550123' });
    expect(client!.notes).toEqual([expect.stringContaining('[Tourhub activity: tour_started] Started'), expect.stringContaining('Follow up'), expect.stringContaining('Loved the tour')]);
  });

  it('answers the ping without an effect; a hook that is not live is 404, and a wrong signing secret is accepted by Zapier but rejected by the Zap', async () => {
    await (connectToFake<'crm'>(fake) as CrmConnector).ping();
    expect(fake.calls().map((c) => `${c.status} ${c.outcome}`)).toEqual(['200 read']);

    const gone = connectToFake<'crm'>(fake, { credentials: { hookUrl: 'https://hooks.zapier.com/hooks/catch/7654321/deleted/' } }) as CrmConnector;
    await expect(gone.ping()).rejects.toMatchObject({ code: 'not_found', retryable: false, status: 404 });

    const unsigned = connectToFake<'crm'>(fake, { credentials: { signingSecret: 'x'.repeat(32) } }) as CrmConnector;
    await unsigned.addNote({ person, body: 'forged' }, { idempotencyKey: 'ps-forged' });
    expect(fake.calls().at(-1)).toMatchObject({ key: 'ps-forged', status: 200, outcome: 'rejected' });
    expect(fake.effects().get('ps-forged')).toBeUndefined();
  });
});
