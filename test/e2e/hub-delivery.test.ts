import { googleEventId } from '../../connectors/calendar/google/mapping';
import { subscriberHash } from '../../connectors/email/mailchimp/mapping';
import { DEMO } from '../../db/seeds/demo';
import type { FakeProviderId } from '../support/fake-providers';
import { startHubE2E, type DeliveryRow, type HubCouple, type HubE2E } from '../support/hub-e2e';

/**
 * The hub on the real stack (test/support/hub-e2e.ts): `tourhub dev --no-worker` (API, its own embedded Postgres and Temporal dev
 * server, in a fresh data folder) and a separate `tourhub worker` process that can be SIGKILLed. The
 * demo organisation gets HoneyBook, Google Calendar, Mailchimp and Twilio integrations pointing at the
 * loopback fakes; couples take the demo couple tour through the API, and every planned call is then
 * checked on the provider's side: each provider-visible identity took effect exactly once, whatever
 * was retried, and every integration_deliveries row succeeded.
 *
 * Per couple the hub plans 12 calls: HoneyBook logActivity on start; on completion (with feedback)
 * logActivity, createTask, setCustomFields (the field mapping below) and addNote; the consultation in
 * Google Calendar; Mailchimp upsertSubscriber, its tags and the welcome journey trigger; one Twilio SMS; and the
 * first check-in (1 day after completion, booked HUB_CHECK_IN_LEAD = 1 day ahead, so at once): a
 * HoneyBook task and a Google event.
 */

const PROVIDERS: FakeProviderId[] = ['honeybook', 'google-calendar', 'mailchimp', 'twilio'];
const CALLS_PER_COUPLE = 12;
const DEMO_TOUR = { orgId: DEMO.orgId, tourId: DEMO.coupleTourId };

let hub: HubE2E | undefined;

beforeAll(async () => {
  hub = await startHubE2E({ prefix: 'tourhub-hub-e2e-', providers: PROVIDERS });
  await hub.connect(DEMO.orgId, DEMO.adminUserId, hub.fakes.list, { honeybook: { field_mapping: { tour_completed_at: 'tour_completed_at', tour_rating: 'tour_rating' } } });
  await hub.startWorker();
}, 120_000);

afterAll(async () => {
  await hub?.close();
  console.info(`hub e2e timings (ms): ${JSON.stringify(hub?.timings)}`);
}, 60_000);

/**
 * The identity each planned call has at its provider (what the fake records as `key`). Twilio has no
 * key: one text per couple's phone, so the identity is matched by its `To|` prefix.
 */
function providerIdentity(row: DeliveryRow, couples: HubCouple[]): { provider: FakeProviderId; identity: string } {
  const provider = hub!.providerOf.get(row.integration_id)!;
  const couple = couples.find((c) => c.workflowId === row.workflow_id)!;
  const settings = hub!.fakes.get(provider).integration.settings;
  switch (provider) {
    case 'google-calendar':
      return { provider, identity: googleEventId(row.idempotency_key) };
    case 'mailchimp': {
      if (row.action === 'email.upsertSubscriber') return { provider, identity: `member:${String(settings.listId)}:${subscriberHash(couple.email)}` };
      // Setting a tag twice leaves it set: Mailchimp absorbs a repeat, so it has no effect to count.
      if (row.action === 'email.addTags') return { provider, identity: '' };
      const step = (settings.sequences as Record<string, { journeyId: number; stepId: number }>).welcome!;
      return { provider, identity: `journey:${step.journeyId}/${step.stepId}:${couple.email}` };
    }
    case 'twilio':
      return { provider, identity: `${couple.phone}|` };
    default:
      return { provider, identity: row.idempotency_key };
  }
}

/**
 * On the provider side: for each provider, the identities that took effect are exactly the planned
 * calls' identities, each once (so no call was lost, none doubled, and no planned action reached the
 * provider under two different keys). Returns, per provider, how many requests repeated an identity
 * the provider then absorbed.
 */
function expectExactlyOnce(rows: DeliveryRow[], couples: HubCouple[]): Record<string, { requests: number; absorbedRepeats: number; faults: number }> {
  const report: Record<string, { requests: number; absorbedRepeats: number; faults: number }> = {};
  for (const provider of PROVIDERS) {
    const fake = hub!.fakes.get(provider);
    const expected = rows
      .map((r) => providerIdentity(r, couples))
      .filter((p) => p.provider === provider && p.identity !== '')
      .map((p) => p.identity)
      .sort();
    const effects = fake.effects();
    const seen = [...effects.keys()].map((k) => (provider === 'twilio' ? `${k.split('|')[0]}|` : k)).sort();
    expect({ provider, identities: seen }).toEqual({ provider, identities: expected });
    expect({ provider, moreThanOnce: [...effects].filter(([, n]) => n !== 1) }).toEqual({ provider, moreThanOnce: [] });
    expect({ provider, duplicates: fake.duplicates().map((d) => d.key) }).toEqual({ provider, duplicates: [] });
    expect({ provider, rejected: fake.calls().filter((c) => c.outcome === 'rejected' || c.outcome === 'unauthorized' || c.outcome === 'not_found') }).toEqual({ provider, rejected: [] });
    const calls = fake.calls();
    report[provider] = {
      requests: calls.length,
      absorbedRepeats: calls.filter((c) => c.kind === 'write' && (c.outcome === 'deduplicated' || c.outcome === 'reapplied')).length,
      faults: calls.filter((c) => c.outcome === 'fault').length,
    };
  }
  return report;
}

describe('hub deliveries on the real stack', () => {
  it('delivers each call exactly once while Google is down longer than a retry interval and Mailchimp fails three times', async () => {
    hub!.resetFakes(20);
    const google = hub!.fakes.get('google-calendar');
    const mailchimp = hub!.fakes.get('mailchimp');
    const couples = await hub!.addCouples(DEMO_TOUR, 4, 'outage');
    google.down();
    mailchimp.failNext(3, 503);
    const started = Date.now();

    await Promise.all(couples.map((c) => hub!.takeTour(c)));
    hub!.timings.outageToursMs = Date.now() - started;
    // Each couple's event is refused at least twice (so retried past the 200 ms first interval), and
    // the outage lasts 2.5 s from the first refusal (past the 1 s maximum interval).
    const faultsPerEvent = () => {
      const counts = new Map<string, number>();
      for (const c of google.calls()) if (c.outcome === 'fault' && c.key) counts.set(c.key, (counts.get(c.key) ?? 0) + 1);
      return counts;
    };
    await google.waitFor(() => faultsPerEvent().size >= couples.length && [...faultsPerEvent().values()].every((n) => n >= 2), 30_000, 'every event refused twice');
    const firstFault = google.calls().find((c) => c.outcome === 'fault')!.receivedAt;
    await new Promise((r) => setTimeout(r, Math.max(0, firstFault + 2500 - Date.now())));
    google.up();
    hub!.timings.googleDownMs = Date.now() - firstFault;

    const rows = await hub!.allDelivered(couples, CALLS_PER_COUPLE, 45_000);
    hub!.timings.outageAllDeliveredMs = Date.now() - started;
    await hub!.settled();
    const report = expectExactlyOnce(rows, couples);
    expect(report['google-calendar']!.faults).toBeGreaterThanOrEqual(2 * couples.length);
    expect(report.mailchimp!.faults).toBe(3);
    // The database saw the retries too: each refused event's delivery succeeded on the attempt after its
    // last refusal. (The check-in event waits behind the consultation in the lane, so Google is up by then.)
    const refused = faultsPerEvent();
    const googleRows = rows.filter((r) => refused.has(googleEventId(r.idempotency_key)));
    expect(googleRows).toHaveLength(couples.length);
    for (const r of googleRows) expect(r.attempts).toBeGreaterThanOrEqual(refused.get(googleEventId(r.idempotency_key))! + 1);
    console.info(`outage: ${JSON.stringify(report)}`);
  }, 90_000);

  it('delivers each call exactly once when the worker is SIGKILLed with provider calls in flight', async () => {
    hub!.resetFakes(300);
    const couples = await hub!.addCouples(DEMO_TOUR, 10, 'killed');
    const started = Date.now();
    await Promise.all(couples.map((c) => hub!.takeTour(c)));
    hub!.timings.killToursMs = Date.now() - started;

    // Kill while the completions' calls are going out: several requests held by the fakes at once.
    await hub!.fakes.get('honeybook').waitFor(
      () => hub!.fakes.inFlight().filter((c) => c.kind === 'write').length >= 4 && hub!.fakes.calls().filter((c) => c.outcome === 'applied').length >= 15,
      30_000,
      'four writes in flight after fifteen applied',
    );
    const inFlightAtKill = hub!.fakes.inFlight().filter((c) => c.kind === 'write');
    const killedAt = Date.now();
    await hub!.killWorker();
    await hub!.startWorker();
    hub!.timings.workerRestartMs = Date.now() - killedAt;

    const rows = await hub!.allDelivered(couples, CALLS_PER_COUPLE, 100_000);
    hub!.timings.killAllDeliveredAfterKillMs = Date.now() - killedAt;
    await hub!.settled();
    const report = expectExactlyOnce(rows, couples);

    // Every call cut off by the kill was sent again by the retry and absorbed by the provider (Twilio:
    // the reconcile lookup found the first text, so it was not sent again).
    const counts = new Map(PROVIDERS.map((p) => [p, hub!.fakes.get(p).countsByKey()]));
    const cutOff = inFlightAtKill.map((c) => ({ provider: c.provider, key: c.key, requests: counts.get(c.provider)?.get(c.key!) }));
    for (const c of cutOff) {
      if (c.provider === 'twilio') expect(c).toMatchObject({ requests: 1 });
      else expect(c.requests).toBeGreaterThanOrEqual(2);
    }
    console.info(`kill: ${inFlightAtKill.length} writes in flight at the kill (${cutOff.map((c) => c.provider).join(', ')}); ${JSON.stringify(report)}`);
  }, 150_000);
});
