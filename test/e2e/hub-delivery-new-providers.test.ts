import { eventUid } from '../../connectors/calendar/apple/mapping';
import { normalizeEmail, parsePhone } from '../../connectors/normalize';
import { requestId } from '../../connectors/payment/paypal/mapping';
import { INTEREST_ATTRIBUTE_KEY, squareIdempotencyKey } from '../../connectors/payment/square/mapping';
import type { ActiveCampaignFakeState } from '../fakes/activecampaign';
import type { AppleFakeState } from '../fakes/apple';
import type { BirdFakeState } from '../fakes/bird';
import type { KitFakeState } from '../fakes/kit';
import type { PayPalFakeState } from '../fakes/paypal';
import type { PocketSuiteFakeState } from '../fakes/pocketsuite';
import type { SquareFakeState } from '../fakes/square';
import type { VonageFakeState } from '../fakes/vonage';
import { EMAIL_TAGS } from '../../domain/hub';
import { createOrg } from '../support/fixtures';
import type { FakeProviderId } from '../support/fake-providers';
import { startHubE2E, type DeliveryRow, type HubCouple, type HubE2E } from '../support/hub-e2e';

/**
 * Issue 14's providers on the real stack (test/support/hub-e2e.ts: `tourhub dev --no-worker` and a
 * `tourhub worker` process, every provider's calls sent to its loopback fake): one organisation
 * connects all eight, PocketSuite (CRM), Apple Calendar, Square and PayPal (payment), Kit and
 * ActiveCampaign (email), Vonage and Bird (SMS). Couples with the details people type (mixed-case and
 * accented emails, formatted phones with extensions, names in other scripts) finish the tour with
 * feedback and an interest in the premium plan while the fakes hold every answer back; the worker is
 * SIGKILLed with calls in flight and started again. Then, on the vendors' side, every planned call took
 * effect exactly once under the identity that vendor dedupes on, and every delivery row succeeded.
 *
 * Per couple the hub plans 18 calls: PocketSuite logActivity on start; on completion logActivity,
 * createTask, setCustomFields (the field mapping below) and addNote (the feedback); the consultation in
 * Apple Calendar; Square's and PayPal's recordSubscriptionInterest; Kit's and ActiveCampaign's
 * upsertSubscriber, seed 001's tags and welcome sequence; one text through Vonage and one through Bird; and the first
 * check-in at once (HUB_CHECK_IN_LEAD): a PocketSuite task and an Apple event.
 */

const PROVIDERS: FakeProviderId[] = ['pocketsuite', 'apple-calendar', 'square', 'paypal', 'kit', 'activecampaign', 'vonage', 'bird'];
const CALLS_PER_COUPLE = 18;
const NAMES = ['Åsa Lindqvist', '李 娜', 'Анна Иванова', 'Zoë 🎉 Ng', 'آدم العربي', `Bartholomew ${'Featherstonehaugh-'.repeat(9)}Smith`];

let hub: HubE2E | undefined;
let org: { orgId: string; tourId: string };

beforeAll(async () => {
  hub = await startHubE2E({ prefix: 'tourhub-hub-e2e-new-', providers: PROVIDERS });
  const created = await createOrg(hub.db);
  org = { orgId: created.orgId, tourId: created.tourId };
  await hub.connect(created.orgId, created.adminId, hub.fakes.list, { pocketsuite: { field_mapping: { tour_completed_at: 'tour_completed_at', tour_rating: 'tour_rating' } } });
  await hub.startWorker();
}, 120_000);

afterAll(async () => {
  await hub?.close();
  console.info(`new providers e2e timings (ms): ${JSON.stringify(hub?.timings)}`);
}, 60_000);

/** A couple's details as typed: every other phone is a UK number with `#` and the rest a US one with `ext.`. */
function typed(i: number, label: string): Partial<HubCouple> {
  const local = i % 2 === 0 ? `${label}.Couple-${i}` : `Åsa-${label}-${i}`;
  return {
    displayName: NAMES[i % NAMES.length]!,
    email: `${local}@${i % 3 === 0 ? 'Exämple' : 'Demo'}.Tourhub.test`,
    phone: i % 2 === 0 ? `+1 (415) 555-${String(100 + i).padStart(4, '0')} ext. ${1000 + i}` : `+44 20 7946 ${1000 + i} #99`,
  };
}

/**
 * The identities each delivery row's calls have at their vendor (what the fake records as `key`).
 * Vonage and Bird have no key: one text per couple's number, matched by its `<number>|` prefix.
 */
function identities(row: DeliveryRow, couples: HubCouple[]): { provider: FakeProviderId; keys: string[] } {
  const provider = hub!.providerOf.get(row.integration_id)!;
  const couple = couples.find((c) => c.workflowId === row.workflow_id)!;
  const email = normalizeEmail(couple.email);
  const phone = parsePhone(couple.phone)!;
  const key = row.idempotency_key;
  switch (provider) {
    case 'apple-calendar':
      return { provider, keys: [eventUid(key)] };
    case 'square':
      return { provider, keys: [squareIdempotencyKey(`${key}:customer`, 'customer.create'), squareIdempotencyKey(key, 'attribute.upsert')] };
    case 'paypal':
      return { provider, keys: [requestId(key)] };
    case 'kit': {
      const tags = (hub!.fakes.get('kit').state as KitFakeState).tags;
      if (row.action === 'email.addTags') return { provider, keys: COMPLETION_TAGS.map((t) => `tagging:${tags.get(t)?.id}:${email}`) };
      return { provider, keys: [row.action === 'email.upsertSubscriber' ? `subscriber:${email}` : `sequence:4101:${email}`] };
    }
    case 'activecampaign': {
      const ac = hub!.fakes.get('activecampaign').state as ActiveCampaignFakeState;
      const contact = String(ac.contacts.get(email)?.id);
      if (row.action === 'email.addTags') return { provider, keys: COMPLETION_TAGS.map((t) => `contactTag:${contact}:${ac.tags.get(t)?.id}`) };
      return { provider, keys: row.action === 'email.upsertSubscriber' ? [`contact:${email}`, `list:7:${contact}`] : [`automation:31:${contact}`] };
    }
    case 'vonage':
      return { provider, keys: [`${phone.digits}|`] };
    case 'bird':
      return { provider, keys: [`${phone.e164}|`] };
    default:
      return { provider, keys: [key] };
  }
}

/** Seed 001's tags on a completion; each email vendor makes each tag once for the whole organisation. */
const COMPLETION_TAGS = [EMAIL_TAGS.onboarded, EMAIL_TAGS.completed];

/** Vonage and Bird key a text by `<number>|<sender or text>`: compare by the number. */
const comparable = (provider: FakeProviderId, key: string) => (provider === 'vonage' || provider === 'bird' ? `${key.split('|')[0]}|` : key);

/**
 * On each vendor's side: the identities that took effect are exactly the planned calls' identities
 * (plus Square's one attribute definition for the seller, and each email vendor's tags), each once, and no request was refused,
 * except Square's 404 to an attribute set before its definition existed, which the connector answers
 * by creating the definition. Returns, per vendor, its requests and the repeats it absorbed.
 */
function expectExactlyOnce(rows: DeliveryRow[], couples: HubCouple[]): Record<string, { requests: number; absorbed: number }> {
  const report: Record<string, { requests: number; absorbed: number }> = {};
  for (const provider of PROVIDERS) {
    const fake = hub!.fakes.get(provider);
    const expected = rows.map((r) => identities(r, couples)).filter((p) => p.provider === provider).flatMap((p) => p.keys);
    if (provider === 'square') expected.push(`definition:${INTEREST_ATTRIBUTE_KEY}`);
    if (provider === 'kit' || provider === 'activecampaign') expected.push(...COMPLETION_TAGS.map((t) => `tag:${t}`));
    const effects = fake.effects();
    expect({ provider, identities: [...effects.keys()].map((k) => comparable(provider, k)).sort() }).toEqual({ provider, identities: expected.sort() });
    expect({ provider, moreThanOnce: [...effects].filter(([, n]) => n !== 1) }).toEqual({ provider, moreThanOnce: [] });
    const refused = fake.calls().filter((c) => ['rejected', 'unauthorized', 'not_found'].includes(c.outcome));
    const expectedRefusals = provider === 'square' ? refused.filter((c) => c.status === 404 && c.path.endsWith(`/custom-attributes/${INTEREST_ATTRIBUTE_KEY}`)) : [];
    expect({ provider, refused }).toEqual({ provider, refused: expectedRefusals });
    report[provider] = { requests: fake.calls().length, absorbed: fake.calls().filter((c) => c.kind === 'write' && (c.outcome === 'deduplicated' || c.outcome === 'reapplied')).length };
  }
  return report;
}

/** What each planner and couple now sees at the vendors: one of everything per couple. */
function expectVendorsHold(couples: HubCouple[]): void {
  const emails = couples.map((c) => normalizeEmail(c.email)).sort();
  const state = <T>(id: FakeProviderId) => hub!.fakes.get(id).state as T;
  const clients = state<PocketSuiteFakeState>('pocketsuite').clients;
  expect([...clients.keys()].sort()).toEqual(emails);
  // Two activities, two tasks, the fields and the feedback note.
  for (const client of clients.values()) expect(client.notes).toHaveLength(6);
  expect(state<AppleFakeState>('apple-calendar').events()).toHaveLength(2 * couples.length);
  expect([...state<SquareFakeState>('square').customers.values()].map((c) => c.email_address).sort()).toEqual(emails);
  expect(state<SquareFakeState>('square').attributes.size).toBe(couples.length);
  expect([...state<PayPalFakeState>('paypal').subscriptions.values()].map((s) => (s.subscriber as { email_address: string }).email_address).sort()).toEqual(emails);
  expect([...state<KitFakeState>('kit').sequences.get(4101)!].sort()).toEqual(emails);
  expect(state<ActiveCampaignFakeState>('activecampaign').contactAutomations).toHaveLength(couples.length);
  // Seed 001's completion tags on every couple, at both email vendors.
  for (const tag of COMPLETION_TAGS) expect([...state<KitFakeState>('kit').tags.get(tag)!.subscribers].sort()).toEqual(emails);
  expect(state<ActiveCampaignFakeState>('activecampaign').contactTags.size).toBe(COMPLETION_TAGS.length * couples.length);
  expect(state<VonageFakeState>('vonage').records.map((r) => r.to).sort()).toEqual(couples.map((c) => parsePhone(c.phone)!.digits).sort());
  expect(state<BirdFakeState>('bird').messages).toHaveLength(couples.length);
}

describe('the new providers on the real stack', () => {
  it('delivers a completed tour to one provider of each new kind exactly once when the worker is SIGKILLed with calls in flight', async () => {
    hub!.resetFakes(300);
    const couples = await hub!.addCouples(org, 6, 'killed', (i) => typed(i, 'killed'));
    const started = Date.now();
    await Promise.all(couples.map((c) => hub!.takeTour(c, { subscriptionInterest: 'premium' })));
    hub!.timings.toursMs = Date.now() - started;

    // Kill while the completions' calls are going out: several requests held by the fakes at once.
    const writesInFlight = () => hub!.fakes.inFlight().filter((c) => c.kind === 'write');
    await hub!.fakes.list[0]!.waitFor(
      () => writesInFlight().length >= 4 && new Set(writesInFlight().map((c) => c.provider)).size >= 3 && hub!.fakes.calls().filter((c) => c.outcome === 'applied').length >= 20,
      30_000,
      'four writes to three vendors in flight after twenty applied',
    );
    const inFlightAtKill = writesInFlight();
    const killedAt = Date.now();
    await hub!.killWorker();
    await hub!.startWorker();
    hub!.timings.workerRestartMs = Date.now() - killedAt;

    const rows = await hub!.allDelivered(couples, CALLS_PER_COUPLE, 100_000);
    hub!.timings.allDeliveredAfterKillMs = Date.now() - killedAt;
    await hub!.settled();
    const report = expectExactlyOnce(rows, couples);
    expectVendorsHold(couples);

    // Every write cut off by the kill took effect once: sent again and absorbed, or found by the
    // retry's lookup (Square's search, ActiveCampaign's automations, Vonage's and Bird's message logs).
    const cutOff = inFlightAtKill.map((c) => ({ provider: c.provider, key: c.key!, effects: hub!.fakes.get(c.provider).effects().get(c.key!) ?? 0, requests: hub!.fakes.get(c.provider).countsByKey().get(c.key!) }));
    for (const c of cutOff) expect(c).toMatchObject({ effects: 1 });
    console.info(`kill: ${inFlightAtKill.length} writes in flight at the kill (${cutOff.map((c) => `${c.provider} x${c.requests}`).join(', ')}); ${JSON.stringify(report)}`);
  }, 150_000);
});
