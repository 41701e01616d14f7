import fs from 'node:fs';
import path from 'node:path';
import { matchesHost } from '../../connectors/outbound';
import { registry } from '../../connectors/registry';
import { context, staticOAuth } from '../support/connectors';
import { MESSY_COUPLES } from '../support/messy-couples';

const root = path.resolve(__dirname, '..', '..', 'connectors');
const entries = [...registry.values()];

const FOLDERS: Record<string, string> = {
  honeybook: 'crm/honeybook',
  tave: 'crm/tave',
  lightblue: 'crm/lightblue',
  'google-calendar': 'calendar/google',
  'outlook-calendar': 'calendar/outlook',
  stripe: 'payment/stripe',
  mailchimp: 'email/mailchimp',
  twilio: 'sms/twilio',
  pocketsuite: 'crm/pocketsuite',
  'apple-calendar': 'calendar/apple',
  square: 'payment/square',
  paypal: 'payment/paypal',
  kit: 'email/kit',
  activecampaign: 'email/activecampaign',
  vonage: 'sms/vonage',
  bird: 'sms/bird',
};

describe('the provider registry', () => {
  it('holds seed 001\'s sixteen providers, one per id', () => {
    expect(entries.map((e) => `${e.category}/${e.id}`).sort()).toEqual([
      'calendar/apple-calendar', 'calendar/google-calendar', 'calendar/outlook-calendar',
      'crm/honeybook', 'crm/lightblue', 'crm/pocketsuite', 'crm/tave',
      'email/activecampaign', 'email/kit', 'email/mailchimp',
      'payment/paypal', 'payment/square', 'payment/stripe',
      'sms/bird', 'sms/twilio', 'sms/vonage',
    ]);
  });

  it('says which providers two-way sync reads, and exactly those connectors read what changed', () => {
    expect(entries.filter((e) => e.readable).map((e) => e.id).sort()).toEqual(['google-calendar', 'mailchimp', 'outlook-calendar', 'stripe', 'tave']);
    const hook = { hookUrl: 'https://hooks.zapier.com/hooks/catch/1/abc/', signingSecret: 'x'.repeat(32) };
    const credentials: Record<string, unknown> = {
      honeybook: hook,
      pocketsuite: hook,
      mailchimp: { apiKey: 'k-us6' },
      stripe: { secretKey: 'sk_test_x' },
      twilio: { accountSid: `AC${'0'.repeat(32)}`, authToken: 't' },
      'apple-calendar': { appleId: 'planner@icloud.com', appSpecificPassword: 'abcd-efgh-ijkl-mnop' },
      paypal: { clientId: 'client-id', clientSecret: 'client-secret' },
      kit: { apiKey: 'kit_key' },
      activecampaign: { apiToken: 'ac-token' },
      vonage: { apiKey: 'abcd1234', apiSecret: 'secret' },
      bird: { accessKey: 'bird-access-key' },
    };
    const settings: Record<string, unknown> = {
      mailchimp: { listId: 'l' },
      twilio: { from: '+15005550006' },
      lightblue: { accountHost: 'studio.lightblueapp.com' },
      square: { environment: 'sandbox' },
      paypal: { environment: 'sandbox' },
      activecampaign: { apiUrl: 'https://tourhub.api-us1.com', listId: '4' },
      vonage: { from: '15005550006' },
      bird: { workspaceId: '8c5b5c5e-3a4b-4f6e-9a1b-2c3d4e5f6a7b', channelId: '1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a' },
    };
    for (const e of entries) {
      // Building a connector sends nothing: the guarded HTTP layer only acts on a call.
      const parsed = e.settingsSchema.safeParse(settings[e.id] ?? {});
      const ctx = context(e, credentials[e.id] ?? { apiKey: 'k', accessToken: 't' }, parsed.success ? parsed.data : settings[e.id], { oauth: staticOAuth() });
      const connector = e.create(ctx as never) as { listChanges?: unknown };
      expect([e.id, typeof connector.listChanges === 'function']).toEqual([e.id, e.readable === true]);
    }
  });

  // Two-way sync compares our values in the form the provider keeps them: sending that form again must
  // change nothing, or every pass would see a difference that is only the provider's limits.
  it.each(entries.filter((e) => e.readable).map((e) => [e.id, e] as const))('%s says how it keeps our values for two-way sync, and keeping them twice changes nothing', (_id, e) => {
    expect(typeof e.storedForm).toBe('function');
    for (const { person } of MESSY_COUPLES) {
      const name = [person.firstName, person.lastName].filter(Boolean).join(' ');
      const fields = { first_name: person.firstName ?? null, last_name: person.lastName ?? null, name: name || null, phone: person.phone ?? null, summary: `Follow-up consultation with ${name}` };
      const once = e.storedForm!(fields);
      expect(e.storedForm!(once)).toEqual(once);
    }
  });

  it.each(entries.map((e) => [e.id, e] as const))('%s publishes a positive rate limit, a docs link and the OAuth kind it needs', (_id, e) => {
    expect(e.ratePerSecond).toBeGreaterThan(0);
    expect(e.docsUrl).toMatch(/^https:\/\//);
    expect(['api-key', 'oauth2', 'webhook-secret']).toContain(e.auth);
    // Every calendar is OAuth but iCloud, whose CalDAV takes an app-specific password.
    expect(e.auth === 'oauth2').toBe(e.category === 'calendar' && e.id !== 'apple-calendar');
  });

  // A base URL is deployment config (CONNECTOR_BASE_URLS), never an organisation's setting: one would
  // let an admin send the integration's credentials anywhere.
  it.each(entries.map((e) => [e.id, e] as const))('%s takes no base URL setting', (_id, e) => {
    expect(e.settingsSchema.safeParse(minimalSettings(e.id)).success).toBe(true);
    const result = e.settingsSchema.safeParse({ ...minimalSettings(e.id), baseUrl: 'http://127.0.0.1:9999' });
    expect(result.success).toBe(false);
  });

  it.each(entries.map((e) => [e.id, e] as const))('%s names the hosts its credentials may go to, and none is a pattern that matches anything', (_id, e) => {
    expect(e.hosts.length).toBeGreaterThan(0);
    for (const h of e.hosts) {
      if (typeof h === 'string') expect(h).toMatch(/^[a-z0-9.-]+\.[a-z]{2,}$/);
      else expect(h.source.startsWith('^') && h.source.endsWith('$')).toBe(true);
      expect(matchesHost('127.0.0.1', [h]) || matchesHost('localhost', [h]) || matchesHost('evil.example', [h])).toBe(false);
    }
  });

  it.each(entries.map((e) => [e.id, e] as const))('%s rejects unknown credential and settings fields (strict schemas)', (_id, e) => {
    expect(e.settingsSchema.safeParse({ ...minimalSettings(e.id), surprise: 1 }).success).toBe(false);
    expect(e.credentialsSchema.safeParse({ surprise: 1 }).success).toBe(false);
  });

  it.each(entries.map((e) => [e.id, e] as const))('%s has a README saying what it does per tour event, its credentials, rate limit and idempotency', (id, e) => {
    expect(FOLDERS[id]!.startsWith(`${e.category}/`)).toBe(true);
    const readme = fs.readFileSync(path.join(root, FOLDERS[id]!, 'README.md'), 'utf8');
    expect(readme).toMatch(/^## What (it does|each tour event)/m);
    expect(readme).toMatch(/^## Credentials/m);
    expect(readme).toMatch(/^## Rate limit/m);
    expect(readme).toMatch(/^## Idempotency/m);
  });
});

/** The settings each provider needs at least. */
function minimalSettings(id: string): Record<string, unknown> {
  switch (id) {
    case 'mailchimp':
      return { listId: 'abc123' };
    case 'twilio':
    case 'vonage':
      return { from: '+15005550006' };
    case 'activecampaign':
      return { apiUrl: 'https://account.api-us1.com' };
    case 'bird':
      return { workspaceId: '8c5b5c5e-3a4b-4f6e-9a1b-2c3d4e5f6a7b', channelId: '1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a' };
    default:
      return {};
  }
}
