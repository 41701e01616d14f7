import { eventUid } from '../../connectors/calendar/apple/mapping';
import type { CalendarConnector } from '../../connectors/contracts';
import { connectToFake, useFake } from '../support/fake-clients';
import type { AppleFakeState } from './apple';

const event = {
  summary: 'Follow-up consultation with Åsa Lindqvist',
  description: 'After the couple tour.',
  start: '2026-11-30T14:00:00',
  end: '2026-11-30T15:00:00',
  timeZone: 'Europe/Stockholm',
  attendees: [{ email: 'ÅSA@exämple.se', name: 'Åsa Lindqvist' }],
};
const fake = useFake('apple-calendar');
const state = () => fake.state as AppleFakeState;

describe('Apple Calendar fake (CalDAV)', () => {
  it('is discovered (principal, home, calendars by name) and takes the event as <uid>.ics; a create cut off mid-call and retried meets 412 and stays one event', async () => {
    // Impatient, but not so much that a busy machine's discovery round trip trips it: only the held PUT does.
    const impatient = connectToFake<'calendar'>(fake, { timeoutMs: 1500 }) as CalendarConnector;
    await impatient.ping(); // discovery answered at once; only the PUT is slow
    fake.setLatency(3000);
    await expect(impatient.createEvent(event, { idempotencyKey: 'ev-1' })).rejects.toMatchObject({ code: 'timeout', retryable: true });
    fake.setLatency(0);
    const calendar = connectToFake<'calendar'>(fake) as CalendarConnector;
    await expect(calendar.createEvent(event, { idempotencyKey: 'ev-1' })).resolves.toEqual({ eventId: eventUid('ev-1') });

    const uid = eventUid('ev-1');
    expect(fake.countsByKey().get(uid)).toBe(2);
    expect(fake.effects().get(uid)).toBe(1);
    expect(fake.calls().filter((c) => c.method === 'PUT').map((c) => `${c.status} ${c.outcome} ${c.headers['if-none-match']}`)).toEqual(['201 applied *', '412 deduplicated *']);
    const stored = state().events();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ calendar: 'consultations', uid, props: { DTSTART: '20261130T130000Z', SUMMARY: 'Follow-up consultation with Åsa Lindqvist' } });
    expect(stored[0]!.attendees).toEqual(['MAILTO:åsa@exämple.se']);
    // Discovery used Basic auth and finite depths only.
    expect(fake.calls().filter((c) => c.method === 'PROPFIND').every((c) => ['0', '1'].includes(c.headers.depth!) && c.headers.authorization?.startsWith('Basic '))).toBe(true);
  });

  it('updateEvent replaces the object; cancelEvent deletes it, and cancelling again (404) is fine', async () => {
    const calendar = connectToFake<'calendar'>(fake) as CalendarConnector;
    const { eventId } = await calendar.createEvent(event, { idempotencyKey: 'ev-2' });
    await calendar.updateEvent(eventId, { ...event, summary: 'Moved consultation' }, { idempotencyKey: 'ev-2:update' });
    expect(state().events().find((e) => e.uid === eventId)?.props.SUMMARY).toBe('Moved consultation');
    await calendar.cancelEvent(eventId, { idempotencyKey: 'ev-2:cancel' });
    await calendar.cancelEvent(eventId, { idempotencyKey: 'ev-2:cancel' });
    expect(state().events().find((e) => e.uid === eventId)).toBeUndefined();
    expect(fake.calls().filter((c) => c.method !== 'PROPFIND').map((c) => `${c.method} ${c.status}`)).toEqual(['PUT 201', 'PUT 204', 'DELETE 204', 'DELETE 404']);
  });

  it('refuses a wrong app-specific password (401) and a calendar name the account does not have', async () => {
    const wrong = connectToFake<'calendar'>(fake, { credentials: { appSpecificPassword: 'aaaa-bbbb-cccc-dddd' } }) as CalendarConnector;
    await expect(wrong.ping()).rejects.toMatchObject({ code: 'unauthorized', retryable: false, status: 401 });
    const missing = connectToFake<'calendar'>(fake, { settings: { calendarName: 'Vacations' } }) as CalendarConnector;
    await expect(missing.ping()).rejects.toMatchObject({ code: 'misconfigured', retryable: false });
    await expect((connectToFake<'calendar'>(fake) as CalendarConnector).ping()).resolves.toBeUndefined();
  });
});
