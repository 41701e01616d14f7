import { googleEventId } from '../../connectors/calendar/google/mapping';
import { graphTransactionId } from '../../connectors/calendar/outlook/mapping';
import type { CalendarConnector, CategoryConnectors, CrmConnector, DeliveryGuard, EmailConnector, PaymentConnector, SmsConnector } from '../../connectors/contracts';
import { subscriberHash } from '../../connectors/email/mailchimp/mapping';
import { ConnectorError } from '../../connectors/errors';
import { memoryGuard } from '../support/connectors';
import { connectToFake, crashOnceAfterSend } from '../support/fake-clients';
import { startFakeProviders, type FakeProvider, type FakeProviders } from '../support/fake-providers';

/**
 * The fakes answer what the real connectors send (built from the registry with the fake's own
 * credentials and settings, as the worker would), record each write under the identity the provider
 * sees, and behave like the provider on a repeat.
 */

const KEY = 'tour:org:user:tour:3.1:integration-1:0:logActivity';
const person = { email: 'Ava.Reed@example.com', firstName: 'Ava', lastName: 'Reed', phone: '+15005550100', externalId: 'user-1' };
const consultation = {
  summary: 'Follow-up consultation with Ava Reed',
  description: 'After the couple tour.',
  start: '2026-11-30T14:00:00',
  end: '2026-11-30T15:00:00',
  timeZone: 'America/New_York',
  attendees: [{ email: 'ava.reed@example.com', name: 'Ava Reed' }],
};

let fakes: FakeProviders;

beforeAll(async () => {
  fakes = await startFakeProviders();
});

afterAll(async () => {
  await fakes?.close();
});

function connect<C extends keyof CategoryConnectors>(fake: FakeProvider, guard: DeliveryGuard = memoryGuard(), timeoutMs = 2000): CategoryConnectors[C] {
  return connectToFake<C>(fake, { guard, timeoutMs });
}

describe('fake providers against the real connectors', () => {
  it('HoneyBook: records the post under its idempotency key; a repeat after a crash is dropped by the Zap', async () => {
    const fake = fakes.get('honeybook');
    const guard = crashOnceAfterSend();
    const crm = connect<'crm'>(fake, guard) as CrmConnector;
    const input = { person, type: 'tour_started', title: 'Started', description: 'Began the tour.', occurredAt: '2026-11-23T12:00:00.000Z' };

    await expect(crm.logActivity(input, { idempotencyKey: KEY })).rejects.toThrow('worker died');
    await expect(crm.logActivity(input, { idempotencyKey: KEY })).resolves.toEqual({ activityId: expect.stringMatching(/^request:/) });
    await crm.logActivity(input, { idempotencyKey: KEY }); // marked sent now: no third post

    expect(fake.countsByKey().get(KEY)).toBe(2);
    expect(fake.effects().get(KEY)).toBe(1);
    expect(fake.duplicates()).toEqual([]);
    const [first] = fake.calls().filter((c) => c.key === KEY);
    expect(first).toMatchObject({ method: 'POST', path: '/hooks/catch/1234567/tourhub0fake/', outcome: 'applied', status: 200, aborted: false });
    expect(first!.respondedAt! - first!.receivedAt).toBeGreaterThanOrEqual(0);
  });

  it('Tave: upserts the contact by email and shows a note repeated after a crash as the duplicate its README names', async () => {
    const fake = fakes.get('tave');
    const crm = connect<'crm'>(fake, crashOnceAfterSend()) as CrmConnector;
    const input = { person, title: 'Follow up', description: 'Call them.', dueDate: '2026-11-30', priority: 'normal' as const };

    await expect(crm.createTask(input, { idempotencyKey: KEY })).rejects.toThrow('worker died');
    await expect(crm.createTask(input, { idempotencyKey: KEY })).resolves.toEqual({ taskId: expect.stringMatching(/^[0-9a-z]{26}$/) });
    await crm.setCustomFields({ person, fields: { 'Tour rating': 5 } }, { idempotencyKey: `${KEY}:fields` });

    expect(fake.effects().get('contact:ava.reed@example.com')).toBe(1);
    expect(fake.duplicates()).toHaveLength(1);
    expect(fake.duplicates()[0]!.key).toMatch(/^note:/);
  });

  it('Google Calendar: the event id is the identity; a repeat gets 409 and the connector returns the same event', async () => {
    const fake = fakes.get('google-calendar');
    const calendar = connect<'calendar'>(fake) as CalendarConnector;
    const first = await calendar.createEvent(consultation, { idempotencyKey: KEY });
    const again = await calendar.createEvent(consultation, { idempotencyKey: KEY });

    expect(first.eventId).toBe(googleEventId(KEY));
    expect(again.eventId).toBe(first.eventId);
    expect(fake.countsByKey().get(first.eventId)).toBe(2);
    expect(fake.effects().get(first.eventId)).toBe(1);
    expect(fake.calls().map((c) => `${c.method} ${c.status}`)).toEqual(['POST 200', 'POST 409', 'GET 200']);
  });

  it('Outlook: a repeated POST with the same transactionId returns the event already made', async () => {
    const fake = fakes.get('outlook-calendar');
    const calendar = connect<'calendar'>(fake) as CalendarConnector;
    const first = await calendar.createEvent(consultation, { idempotencyKey: KEY });
    const again = await calendar.createEvent(consultation, { idempotencyKey: KEY });

    expect(again.eventId).toBe(first.eventId);
    expect(fake.countsByKey().get(graphTransactionId(KEY))).toBe(2);
    expect(fake.effects().get(graphTransactionId(KEY))).toBe(1);
    await expect(calendar.ping()).resolves.toBeUndefined();
  });

  it('Mailchimp: upserts by subscriber hash; a journey trigger repeated after a crash enters the contact once', async () => {
    const fake = fakes.get('mailchimp');
    const email = connect<'email'>(fake, crashOnceAfterSend()) as EmailConnector;
    await expect(email.upsertSubscriber({ person, mergeFields: {} }, { idempotencyKey: `${KEY}:upsert` })).resolves.toEqual({ subscriberId: subscriberHash(person.email) });
    await expect(email.triggerSequence({ email: person.email, sequence: 'welcome' }, { idempotencyKey: KEY })).rejects.toThrow('worker died');
    await email.triggerSequence({ email: person.email, sequence: 'welcome' }, { idempotencyKey: KEY });

    const journey = 'journey:101/201:ava.reed@example.com';
    expect(fake.countsByKey().get(journey)).toBe(2);
    expect(fake.effects().get(journey)).toBe(1);
    expect(fake.effects().get(`member:a1b2c3d4e5:${subscriberHash(person.email)}`)).toBe(1);
  });

  it('Stripe: replays a repeated Idempotency-Key and refuses one reused with other parameters', async () => {
    const fake = fakes.get('stripe');
    const payment = connect<'payment'>(fake) as PaymentConnector;
    const { customerId } = await payment.upsertCustomer({ person, metadata: { tour_id: 't1' } }, { idempotencyKey: `${KEY}:customer` });
    const interest = { customerId, plan: 'premium', source: 'tour_completed', occurredAt: '2026-11-23T12:00:00.000Z' };
    await payment.recordSubscriptionInterest(interest, { idempotencyKey: KEY });
    await payment.recordSubscriptionInterest(interest, { idempotencyKey: KEY });
    // A second upsert finds the customer by email and has nothing to change: no write at all.
    await expect(payment.upsertCustomer({ person, metadata: { tour_id: 't1' } }, { idempotencyKey: `${KEY}:customer` })).resolves.toEqual({ customerId });

    expect(fake.effects().get(`${KEY}:customer:customer.create`)).toBe(1);
    expect(fake.countsByKey().get(`${KEY}:subscription-interest`)).toBe(2);
    expect(fake.effects().get(`${KEY}:subscription-interest`)).toBe(1);
    expect(fake.calls().find((c) => c.outcome === 'deduplicated')).toBeDefined();
    const reused = await payment.recordSubscriptionInterest({ ...interest, plan: 'basic' }, { idempotencyKey: KEY }).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(ConnectorError);
    expect(reused).toMatchObject({ status: 400, retryable: false });
  });

  it('Twilio: a send retried after a crash is found by the reconcile lookup and not sent twice', async () => {
    const fake = fakes.get('twilio');
    const sms = connect<'sms'>(fake, crashOnceAfterSend()) as SmsConnector;
    const input = { to: '+15005550100', body: 'Welcome aboard, Ava!' };
    await expect(sms.sendMessage(input, { idempotencyKey: KEY })).rejects.toThrow('worker died');
    const retried = await sms.sendMessage(input, { idempotencyKey: KEY });

    expect(retried.messageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(fake.countsByKey().get('+15005550100|+15005550006|Welcome aboard, Ava!')).toBe(1);
    expect(fake.calls().map((c) => `${c.method} ${c.status}`)).toEqual(['POST 201', 'GET 200']);
  });
});

describe('fake provider faults', () => {
  const activity = (n: number) => ({ person, type: 'tour_started', title: `Started ${n}`, description: 'x', occurredAt: '2026-11-23T12:00:00.000Z' });

  it('fails the next n requests with the given status, without effect, then answers again', async () => {
    const fake = fakes.get('honeybook');
    fake.clearCalls();
    const crm = connect<'crm'>(fake) as CrmConnector;
    fake.failNext(2, 503, { retryAfterSeconds: 2 });
    for (let i = 0; i < 2; i++) {
      const err = await crm.logActivity(activity(1), { idempotencyKey: 'fault-1' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'provider_unavailable', retryable: true, status: 503, retryAfterMs: 2000 });
    }
    await crm.logActivity(activity(1), { idempotencyKey: 'fault-1' });
    expect(fake.calls().map((c) => c.outcome)).toEqual(['fault', 'fault', 'applied']);
    expect(fake.countsByKey().get('fault-1')).toBe(1);
  });

  it('is down for a while, or until up()', async () => {
    const fake = fakes.get('mailchimp');
    const email = connect<'email'>(fake) as EmailConnector;
    fake.down(300);
    await expect(email.ping()).rejects.toMatchObject({ status: 503, retryable: true });
    await new Promise((r) => setTimeout(r, 350));
    await expect(email.ping()).resolves.toBeUndefined();
    fake.down();
    await expect(email.ping()).rejects.toMatchObject({ status: 503 });
    fake.up();
    await expect(email.ping()).resolves.toBeUndefined();
  });

  it('holds answers back by its latency, shows the call in flight, and records a caller that gave up as aborted (effect applied)', async () => {
    const fake = fakes.get('honeybook');
    fake.clearCalls();
    fake.setLatency(300);
    try {
      const started = Date.now();
      const pending = (connect<'crm'>(fake) as CrmConnector).logActivity(activity(2), { idempotencyKey: 'slow-1' });
      await fake.waitFor((f) => f.inFlight().length === 1, 1000, 'one call in flight');
      await pending;
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      expect(fake.inFlight()).toEqual([]);

      const impatient = connect<'crm'>(fake, memoryGuard(), 100) as CrmConnector;
      await expect(impatient.logActivity(activity(3), { idempotencyKey: 'slow-2' })).rejects.toMatchObject({ code: 'timeout' });
      await fake.waitFor((f) => f.calls().some((c) => c.key === 'slow-2' && c.aborted), 1000, 'slow-2 aborted');
      expect(fake.effects().get('slow-2')).toBe(1);
      await expect(fake.waitFor(() => false, 100, 'never')).rejects.toThrow(/no "never" within 100 ms \(honeybook: /);
    } finally {
      fake.setLatency(0);
    }
  });
});

describe('the fakes serve two-way sync\'s reads the way each vendor does', () => {
  type Reader = { listChanges: NonNullable<CrmConnector['listChanges']> };
  /** Every page of a pass, as the pull activity walks them. */
  async function pass(reader: Reader, cursor: string | undefined, pageSize: number) {
    const keys: string[] = [];
    let page: string | undefined;
    let pages = 0;
    for (;;) {
      const res = await reader.listChanges({ ...(cursor !== undefined ? { cursor } : {}), ...(page !== undefined ? { page } : {}), pageSize, startedAt: Date.now() });
      pages++;
      keys.push(...res.records.map((r) => r.key));
      if (!res.nextPage) return { keys, pages, cursor: res.cursor };
      page = res.nextPage;
    }
  }
  const people = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ ...person, email: `${tag}-${i}@example.com` }));

  it.each(['tave', 'mailchimp', 'stripe'] as const)('%s: a full pass pages through every contact, a later one sees only what changed', async (id) => {
    const fake = fakes.get(id);
    const tag = `${id}-${Date.now()}`;
    for (const [i, p] of people(25, tag).entries()) {
      if (id === 'tave') await connect<'crm'>(fake).upsertContact(p, { idempotencyKey: `${tag}-${i}` });
      if (id === 'mailchimp') await connect<'email'>(fake).upsertSubscriber({ person: p }, { idempotencyKey: `${tag}-${i}` });
      if (id === 'stripe') await connect<'payment'>(fake).upsertCustomer({ person: p }, { idempotencyKey: `${tag}-${i}` });
    }
    const reader = connect(fake) as unknown as Reader;
    const full = await pass(reader, undefined, 10);
    expect(full.keys.filter((k) => k.startsWith(tag))).toHaveLength(25);
    expect(full.pages).toBeGreaterThan(2);
    await new Promise((r) => setTimeout(r, id === 'stripe' ? 1100 : 10)); // Stripe's event times are whole seconds
    const edited = `${tag}-3@example.com`;
    const record = [...fake.store(id === 'tave' ? 'contacts' : id === 'mailchimp' ? 'members' : 'customers').entries()].find(([, r]) => String(r.email ?? r.email_address).toLowerCase() === edited)!;
    fake.touch(id === 'tave' ? 'contacts' : id === 'mailchimp' ? 'members' : 'customers', record[0]);
    const since = await pass(reader, full.cursor, 10);
    expect(since.keys).toEqual([edited]);
  });

  it.each(['google-calendar', 'outlook-calendar'] as const)('%s: a full pass ends with a token; the next pass gets the change and the deletion', async (id) => {
    const fake = fakes.get(id);
    const calendar = connect<'calendar'>(fake);
    const made = [];
    for (let i = 0; i < 12; i++) made.push((await calendar.createEvent(consultation, { idempotencyKey: `${id}-${Date.now()}-${i}` })).eventId);
    const reader = calendar as unknown as Reader;
    const full = await pass(reader, undefined, 5);
    expect(full.keys).toEqual(expect.arrayContaining(made));
    expect(full.cursor).toBeDefined();
    await calendar.updateEvent(made[0]!, { ...consultation, start: '2026-12-01T14:00:00', end: '2026-12-01T15:00:00' }, { idempotencyKey: 'u' });
    await calendar.cancelEvent(made[1]!, { idempotencyKey: 'c' });
    const res = await reader.listChanges({ cursor: full.cursor!, pageSize: 5, startedAt: Date.now() });
    expect(res.records.map((r) => [r.key, r.fields.cancelled])).toEqual([
      [made[0], false],
      [made[1], true],
    ]);
    expect(res.records[0]!.fields.start).toBe('2026-12-01T19:00:00Z');
  });
});
