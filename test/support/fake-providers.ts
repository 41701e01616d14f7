/**
 * Loopback fakes of the providers the hub calls, for end-to-end tests and benchmarks (no jest here). The
 * server core is fake-core.ts; each vendor's fake is one file in test/fakes/<vendor>.ts.
 *
 * Each fake is a node:http server on 127.0.0.1 (port 0) that answers the requests our connectors make
 * (connectors/<category>/<vendor>/client.ts, and the vendor references their nock tests cite) with the
 * vendor's JSON shapes, and behaves like the vendor where it matters for exactly-once delivery:
 *
 * | fake | identity of a write (what the provider dedupes or would duplicate on) | a repeat |
 * | --- | --- | --- |
 * | honeybook | `X-Tourhub-Idempotency-Key` (the Zap dedupes on `idempotency_key`, README step 4) | deduplicated |
 * | tave | contact: `contact:<email>`; note: `note:<contactId>:<sha256(contentHtml)>` (no key) | note: a second note |
 * | google-calendar | the client-chosen event id (`body.id`) | 409 duplicate |
 * | outlook-calendar | `transactionId` | the event already made |
 * | mailchimp | member: `member:<list>:<hash>` (PUT upsert); trigger: `journey:<j>/<s>:<email>` | upsert; journey admits once (configurable) |
 * | stripe | `Idempotency-Key` | replayed answer (`Idempotent-Replayed: true`); other parameters: 400 |
 * | twilio | `<To>|<From or MessagingServiceSid>|<Body>` (no key) | a second message |
 * | pocketsuite (test/fakes/) | the envelope's `idempotency_key`, as HoneyBook | deduplicated |
 * | apple-calendar | the VEVENT's UID (resource `<uid>.ics`) | 412 to `If-None-Match: *` |
 * | square | `idempotency_key` in the body; a definition: `definition:<key>` | first answer replayed; definition 409 |
 * | paypal | `PayPal-Request-Id` | the first subscription |
 * | kit | `subscriber:<email>`, `sequence:<id>:<email>`, `tagging:<tag>:<email>` | upsert; in a sequence once |
 * | activecampaign | `contact:<email>`, `list:<l>:<c>`, `automation:<a>:<c>` (no key) | upsert; automation runs again |
 * | vonage | `<to>|<from>|<text>` (no key) | a second message |
 * | bird | `<receiver>|<text>` (no key) | a second message |
 *
 * Every request is recorded with that identity (`key`), the time it arrived and the time it was answered,
 * and whether the client went away first (`aborted`: a worker killed mid-call). The effect of a write is
 * applied when the request arrives, before any latency, as a real provider would: a call in flight when
 * its caller dies has happened. `duplicates()` lists identities whose effect happened more than once,
 * i.e. what a couple or planner would see twice; `countsByKey()` counts the write requests that reached
 * the provider, including repeats it absorbed.
 *
 * Faults: `down(ms?)` answers 503 to everything until `up()` (or for `ms`), `failNext(n, status)` fails the
 * next n requests, `setLatency(ms)` holds every answer back. Faulted requests are recorded as `fault` and
 * have no effect.
 *
 * Two-way sync reads what changed, as each vendor serves it: Tave's address book by page (`sortBy`
 * `modified desc` or `id asc`), Mailchimp's members by `offset` and `since_last_changed`, Stripe's customers
 * by `starting_after` and its `customer.*` events, Google's events with sync and page tokens, Graph's
 * calendarView delta with next and delta links. `store(name)` is the provider's own data (Tave `contacts`,
 * Mailchimp `members`, Stripe `customers`, Google and Outlook `events`), for seeding many records and for
 * edits a planner makes in the vendor's app; `touch(name, id)` marks such an edit as a change.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { insertIntegration } from '../../db/repositories/integrations';
import type { SecretBox } from '../../db/secrets';
import { activecampaignSpec } from '../fakes/activecampaign';
import { appleSpec } from '../fakes/apple';
import { birdSpec } from '../fakes/bird';
import { googleSpec } from '../fakes/google';
import { honeybookSpec } from '../fakes/honeybook';
import { kitSpec } from '../fakes/kit';
import { mailchimpSpec } from '../fakes/mailchimp';
import { outlookSpec } from '../fakes/outlook';
import { paypalSpec } from '../fakes/paypal';
import { pocketsuiteSpec } from '../fakes/pocketsuite';
import { squareSpec } from '../fakes/square';
import { stripeSpec } from '../fakes/stripe';
import { taveSpec } from '../fakes/tave';
import { twilioSpec } from '../fakes/twilio';
import { vonageSpec } from '../fakes/vonage';
import { createFake, FAKE_PROVIDER_IDS, type FakeOptions, type FakeProvider, type FakeProviderId, type ProviderSpec, type RecordedCall } from './fake-core';

export { FAKE_PROVIDER_IDS, type CallOutcome, type FakeIntegration, type FakeOptions, type FakeProvider, type FakeProviderId, type RecordedCall } from './fake-core';

const SPECS: Record<FakeProviderId, (opts: FakeOptions) => ProviderSpec> = {
  honeybook: honeybookSpec,
  tave: taveSpec,
  'google-calendar': googleSpec,
  'outlook-calendar': outlookSpec,
  mailchimp: mailchimpSpec,
  stripe: stripeSpec,
  twilio: twilioSpec,
  pocketsuite: pocketsuiteSpec,
  'apple-calendar': appleSpec,
  square: squareSpec,
  paypal: paypalSpec,
  kit: kitSpec,
  activecampaign: activecampaignSpec,
  vonage: vonageSpec,
  bird: birdSpec,
};

/** One fake, not yet started. */
export function createFakeProvider(id: FakeProviderId, opts: FakeOptions = {}): FakeProvider {
  return createFake(SPECS[id](opts), opts);
}

export interface FakeProviders {
  /** By provider id (the registry's ids). */
  byId: Partial<Record<FakeProviderId, FakeProvider>>;
  list: FakeProvider[];
  get(id: FakeProviderId): FakeProvider;
  /** Every fake's calls, merged in arrival order. */
  calls(): RecordedCall[];
  inFlight(): RecordedCall[];
  summary(): string;
  close(): Promise<void>;
}

/**
 * The deployment configuration that sends each fake's provider to it: CONNECTOR_BASE_URLS, and
 * OUTBOUND_ALLOWED_NETWORKS for the loopback address the fakes listen on. Give it to the API and the
 * worker alike (the API checks account addresses and runs connection tests through the same rules).
 */
export function deploymentEnv(fakes: readonly FakeProvider[]): Record<string, string> {
  return {
    CONNECTOR_BASE_URLS: fakes.map((f) => `${f.id}=${f.deploymentBaseUrl}`).join(','),
    OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1/32',
  };
}

/** Starts the fakes (all of them unless `only` says which); each has `.integration` with credentials and settings. */
export async function startFakeProviders(opts: FakeOptions & { only?: FakeProviderId[] } = {}): Promise<FakeProviders> {
  const ids = opts.only ?? [...FAKE_PROVIDER_IDS];
  const list = ids.map((id) => createFakeProvider(id, opts));
  try {
    await Promise.all(list.map((f) => f.start()));
  } catch (err) {
    await Promise.all(list.map((f) => f.close()));
    throw err;
  }
  const byId = Object.fromEntries(list.map((f) => [f.id, f])) as Partial<Record<FakeProviderId, FakeProvider>>;
  return {
    byId,
    list,
    get(id) {
      const f = byId[id];
      if (!f) throw new Error(`fake ${id} was not started`);
      return f;
    },
    calls: () => list.flatMap((f) => f.calls()).sort((a, b) => a.receivedAt - b.receivedAt || a.seq - b.seq),
    inFlight: () => list.flatMap((f) => f.inFlight()),
    summary: () => list.map((f) => f.summary()).join('\n'),
    close: async () => {
      await Promise.all(list.map((f) => f.close()));
    },
  };
}

/**
 * Creates one integration per fake in an organisation: through `POST /api/integrations` (admin token)
 * for key and webhook providers, and straight into the table for OAuth providers, whose tokens the API
 * only takes from a consent screen (the worker then needs GOOGLE_/MICROSOFT_OAUTH_CLIENT_ID and _SECRET
 * set, to any value: the fake's tokens never expire, so no refresh is made). Route overrides the API does
 * not take (`routes`, e.g. Twilio's SMS welcome) are written into the row's settings. Returns the ids.
 */
export async function connectFakeIntegrations(opts: {
  apiUrl: string;
  adminToken: string;
  orgId: string;
  /** Owner connection (OAuth rows and route overrides bypass the API). */
  db: Knex;
  /** The keyring the API and worker use, to seal OAuth credentials. */
  box: SecretBox;
  fakes: FakeProvider[];
  /** Extra body fields per provider (`field_mapping`, `enabled_events`, `time_zone`). */
  extra?: Partial<Record<FakeProviderId, Record<string, unknown>>>;
}): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const fake of opts.fakes) {
    const spec = fake.integration;
    const extra = opts.extra?.[spec.provider] ?? {};
    let id: string;
    if (spec.auth === 'oauth2') {
      id = crypto.randomUUID();
      await insertIntegration(opts.db, opts.box, {
        id,
        organizationId: opts.orgId,
        type: spec.category,
        provider: spec.provider,
        settings: {
          provider: spec.settings,
          field_mapping: (extra.field_mapping as Record<string, string> | undefined) ?? {},
          enabled_events: (extra.enabled_events as string[] | undefined) ?? [],
          ...(typeof extra.time_zone === 'string' ? { time_zone: extra.time_zone } : {}),
        },
        credentials: spec.credentials,
        isActive: true,
      });
    } else {
      const res = await fetch(`${opts.apiUrl}/api/integrations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ provider: spec.provider, credentials: spec.credentials, settings: spec.settings, ...extra }),
      });
      const body = (await res.json()) as { integration?: { id: string } };
      if (res.status !== 201 || !body.integration) throw new Error(`POST /api/integrations ${spec.provider}: ${res.status} ${JSON.stringify(body)}`);
      id = body.integration.id;
    }
    if (spec.routes) {
      await opts.db('organization_integrations')
        .where({ id })
        .update({ settings: opts.db.raw(`jsonb_set(settings, '{routes}', CAST(? AS jsonb))`, [JSON.stringify(spec.routes)]) });
    }
    ids[spec.provider] = id;
  }
  return ids;
}
