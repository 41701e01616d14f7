import type { HubEvent } from '../../domain/hub';
import { addDays, DEFAULT_ROUTE_OPTIONS, idempotencyKey, localDate, plan, type RouteOptions } from '../../domain/routes';

const options = (over: Partial<RouteOptions> = {}): RouteOptions => ({ ...DEFAULT_ROUTE_OPTIONS, timeZone: 'America/New_York', ...over });

// 03:00 UTC on the 23rd is still the evening of the 22nd in New York.
const event = (over: Partial<HubEvent> = {}): HubEvent => ({
  eventId: 'tour:o:u:t:4',
  type: 'tour_completed',
  orgId: 'o',
  userId: 'u',
  tourId: 't',
  tourName: 'Welcome to your wedding dashboard',
  progressId: 'p',
  occurredAt: '2026-11-23T03:00:00.000Z',
  person: { email: 'ava@example.com', firstName: 'Ava', lastName: 'Reed', phone: '+15005550006' },
  ...over,
});

describe('hub routes (seed 001 defaults)', () => {
  it('computes dates in the organisation\'s time zone, across month ends', () => {
    expect(localDate('2026-11-23T03:00:00.000Z', 'America/New_York')).toBe('2026-11-22');
    expect(localDate('2026-11-23T03:00:00.000Z', 'Europe/London')).toBe('2026-11-23');
    expect(addDays('2026-11-28', 7)).toBe('2026-12-05');
    expect(addDays('2026-12-30', 3)).toBe('2027-01-02');
  });

  it('CRM logs an activity when a tour starts', () => {
    const [a] = plan('crm', event({ type: 'tour_started' }), options());
    expect(a).toMatchObject({ method: 'logActivity', input: { type: 'tour_started', occurredAt: '2026-11-23T03:00:00.000Z', metadata: { event_id: 'tour:o:u:t:4' } } });
  });

  it('CRM on completion: an activity, a follow-up task due in 7 days, and the mapped custom fields', () => {
    const actions = plan('crm', event({ feedback: { rating: 5 } }), options({ fieldMapping: { tour_completed_at: 'cf_tour_done', tour_rating: 'cf_rating' } }));
    expect(actions.map((a) => a.method)).toEqual(['logActivity', 'createTask', 'setCustomFields']);
    expect(actions[1]).toMatchObject({ input: { dueDate: '2026-11-29', priority: 'normal', title: 'Follow up with Ava Reed' } });
    expect(actions[2]).toMatchObject({ input: { fields: { cf_tour_done: '2026-11-23T03:00:00.000Z', cf_rating: 5 } } });
    expect(plan('crm', event(), options()).map((a) => a.method)).toEqual(['logActivity', 'createTask']);
  });

  it('CRM on abandonment: a high-priority task due in 2 days', () => {
    expect(plan('crm', event({ type: 'tour_abandoned' }), options())).toEqual([
      expect.objectContaining({ method: 'createTask', input: expect.objectContaining({ priority: 'high', dueDate: '2026-11-24' }) }),
    ]);
  });

  it('CRM turns feedback into a note', () => {
    const [note] = plan('crm', event({ type: 'feedback_submitted', feedback: { rating: 4, wasHelpful: true, feedback: 'Loved the budget view' } }), options());
    expect(note).toMatchObject({ method: 'addNote', input: { body: 'Tour feedback on "Welcome to your wedding dashboard"\nRating: 4/5\nHelpful: yes\nLoved the budget view' } });
  });

  it('calendar books a one-hour consultation 3 days after completion at 14:00 local', () => {
    expect(plan('calendar', event(), options())).toEqual([
      expect.objectContaining({ method: 'createEvent', input: expect.objectContaining({ start: '2026-11-25T14:00:00', end: '2026-11-25T15:00:00', timeZone: 'America/New_York', attendees: [{ email: 'ava@example.com', name: 'Ava Reed' }] }) }),
    ]);
    expect(plan('calendar', event({ type: 'tour_started' }), options())).toEqual([]);
    expect(plan('calendar', event(), options({ consultationDaysAfter: 5, consultationHour: 23, consultationMinutes: 90 }))[0]).toMatchObject({
      input: { start: '2026-11-27T23:00:00', end: '2026-11-28T00:30:00' },
    });
  });

  it('payment records subscription interest only when the completion says so', () => {
    expect(plan('payment', event(), options())).toEqual([]);
    expect(plan('payment', event({ subscriptionInterest: { plan: 'premium' } }), options())).toEqual([
      expect.objectContaining({ method: 'recordSubscriptionInterest', input: expect.objectContaining({ plan: 'premium', person: expect.objectContaining({ email: 'ava@example.com' }) }) }),
    ]);
  });

  it('email on completion: the subscriber with seed 001\'s merge fields, its tags, then the welcome sequence', () => {
    const completed = event({ feedback: { rating: 5 }, progress: { totalTimeSeconds: 754, stepIndex: 4, totalSteps: 5 }, subscriptionTier: 'premium' });
    const actions = plan('email', completed, options());
    expect(actions.map((a) => [a.method, a.method === 'triggerSequence' ? a.input.sequence : null])).toEqual([
      ['upsertSubscriber', null],
      ['addTags', null],
      ['triggerSequence', 'welcome'],
    ]);
    expect(actions[0]).toMatchObject({ input: { mergeFields: { tourCompletedAt: '2026-11-23', tourRating: '5', tourMinutes: '13', subscriptionTier: 'premium' } } });
    expect(actions[1]).toEqual({ category: 'email', method: 'addTags', input: { email: 'ava@example.com', tags: ['wedsync-onboarded', 'tour-completed'] } });
  });

  it('email sends the welcome template at once, before the sequence, when the integration asks for it', () => {
    const sequences = plan('email', event(), options({ sendImmediateWelcome: true })).filter((a) => a.method === 'triggerSequence');
    expect(sequences.map((a) => (a.method === 'triggerSequence' ? a.input.sequence : null))).toEqual(['welcome-email', 'welcome']);
  });

  it('email re-engages with the resume link, where the couple stopped and how far they got, tagged tour-abandoned', () => {
    // Abandonment itself sends nothing: the re-engagement timer (cancelled by a resume) does.
    expect(plan('email', event({ type: 'tour_abandoned' }), options())).toEqual([]);
    const abandoned = plan('email', event({ type: 're_engagement_due', resumeUrl: 'https://app.example/tours/t', progress: { totalTimeSeconds: 60, stepIndex: 2, totalSteps: 5, stepKey: 'guest_list' } }), options());
    expect(abandoned.map((a) => a.method)).toEqual(['upsertSubscriber', 'addTags', 'triggerSequence']);
    expect(abandoned[0]).toMatchObject({ input: { mergeFields: { resumeUrl: 'https://app.example/tours/t', abandonedStep: 'guest_list', progressPercent: '40' } } });
    expect(abandoned[1]).toMatchObject({ input: { tags: ['tour-abandoned'] } });
    expect(abandoned[2]).toMatchObject({ input: { sequence: 're-engagement' } });
  });

  it('every event the calendar books carries seed 001\'s reminders: an email a day before and a popup 15 minutes before', () => {
    const reminders = [
      { method: 'email', minutes: 1440 },
      { method: 'popup', minutes: 15 },
    ];
    expect(plan('calendar', event(), options())[0]).toMatchObject({ input: { reminders } });
    const checkIn = plan('calendar', event({ type: 'check_in_due', checkIn: { number: 1, of: 4, at: '2026-11-24T15:00:00.000Z' } }), options());
    expect(checkIn[0]).toMatchObject({ input: { reminders } });
  });

  it('each check-in of the series is a CRM task and a 30-minute calendar slot at 10:00 on its day', () => {
    const checkIn = event({ type: 'check_in_due', checkIn: { number: 2, of: 4, at: '2026-11-30T03:00:00.000Z' } });
    expect(plan('crm', checkIn, options())).toEqual([
      expect.objectContaining({ method: 'createTask', input: expect.objectContaining({ title: 'Check-in 2 of 4 with Ava Reed', dueDate: '2026-11-29' }) }),
    ]);
    expect(plan('calendar', checkIn, options())).toEqual([
      expect.objectContaining({ method: 'createEvent', input: expect.objectContaining({ start: '2026-11-29T10:00:00', end: '2026-11-29T10:30:00', timeZone: 'America/New_York' }) }),
    ]);
    expect(plan('email', checkIn, options())).toEqual([]);
  });

  it('SMS sends a welcome on completion only when enabled and a phone is known', () => {
    expect(plan('sms', event(), options())).toEqual([]);
    expect(plan('sms', event(), options({ smsWelcomeEnabled: true }))).toEqual([expect.objectContaining({ method: 'sendMessage', input: expect.objectContaining({ to: '+15005550006' }) })]);
    expect(plan('sms', event({ person: { email: 'x@example.com' } }), options({ smsWelcomeEnabled: true }))).toEqual([]);
  });

  it('respects the integration\'s enabled events', () => {
    expect(plan('crm', event(), options({ enabledEvents: ['tour_started'] }))).toEqual([]);
    expect(plan('crm', event({ type: 'tour_started' }), options({ enabledEvents: ['tour_started'] }))).toHaveLength(1);
  });

  it('derives a key that names event, integration, position and method', () => {
    const eventId = 'tour:0e0d0000-0000-4000-8000-000000000001:c0000000-0000-4000-8000-000000000001:d0000000-0000-4000-8000-000000000001:4.0';
    const integrationId = '6f1c2a4e-8b7d-4c3a-9e2f-1a2b3c4d5e6f';
    expect(idempotencyKey(eventId, integrationId, 'createTask', 1)).toBe(`${eventId}:${integrationId}:1:createTask`);
  });

  it('refuses to build a key from ids that are not canonical', () => {
    const eventId = 'tour:0e0d0000-0000-4000-8000-000000000001:c0000000-0000-4000-8000-000000000001:d0000000-0000-4000-8000-000000000001:4.0';
    expect(() => idempotencyKey(eventId.toUpperCase(), '6f1c2a4e-8b7d-4c3a-9e2f-1a2b3c4d5e6f', 'createTask', 1)).toThrow(/upper-case/);
    expect(() => idempotencyKey(eventId, '6F1C2A4E-8B7D-4C3A-9E2F-1A2B3C4D5E6F', 'createTask', 1)).toThrow(/integrationId/);
    expect(() => idempotencyKey(eventId, 'int-1', 'createTask', 1)).toThrow(/lower-case UUIDs/);
  });
});
