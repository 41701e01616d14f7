import { appleCalendar } from './calendar/apple';
import { googleCalendar } from './calendar/google';
import { outlookCalendar } from './calendar/outlook';
import { honeybook } from './crm/honeybook';
import { lightblue } from './crm/lightblue';
import { pocketsuite } from './crm/pocketsuite';
import { tave } from './crm/tave';
import { activecampaign } from './email/activecampaign';
import { kit } from './email/kit';
import { mailchimp } from './email/mailchimp';
import { paypal } from './payment/paypal';
import { square } from './payment/square';
import { stripe } from './payment/stripe';
import type { OutboundRefusal } from './errors';
import { vetDestination, type OutboundGuard } from './outbound';
import type { ProviderEntry } from './registry-types';
import { bird } from './sms/bird';
import { twilio } from './sms/twilio';
import { vonage } from './sms/vonage';

export type { ProviderEntry } from './registry-types';

/** Provider id -> entry. One line per provider; a provider is available once it is listed here. */
const PROVIDERS: ProviderEntry[] = [
  honeybook,
  tave,
  lightblue,
  pocketsuite,
  googleCalendar,
  outlookCalendar,
  appleCalendar,
  stripe,
  square,
  paypal,
  mailchimp,
  kit,
  activecampaign,
  twilio,
  vonage,
  bird,
];

export type Registry = ReadonlyMap<string, ProviderEntry>;

/**
 * Settings keys no provider takes any more. `baseUrl` was an API field until it let an organisation
 * point calls carrying its credentials anywhere; rows saved with it are read as if it were not there
 * (calls go to the vendor's own host), and it is never shown or written back.
 */
const RETIRED_SETTINGS = ['baseUrl'];

/** A row's stored provider settings without the retired keys. */
export function withoutRetiredSettings(stored: Record<string, unknown> | undefined): Record<string, unknown> {
  const out = { ...stored };
  for (const key of RETIRED_SETTINGS) delete out[key];
  return out;
}

/** A row's stored provider settings, parsed by the provider's schema (retired keys ignored). */
export function storedProviderSettings(entry: ProviderEntry, stored: Record<string, unknown> | undefined): unknown {
  return entry.settingsSchema.parse(withoutRetiredSettings(stored));
}

/**
 * A retired `baseUrl` sent again (the attack: settings pointing a provider's calls, and so its
 * credentials, at an address of the sender's choosing). An address the outbound rules refuse is answered
 * with the rule it breaks (loopback, metadata, private, host_not_allowed, ...), so a caller learns why,
 * not merely that the key is unknown; any other value is left to the strict schema (400, the key is gone).
 */
export async function checkRetiredSettings(guard: OutboundGuard, entry: ProviderEntry, sent: unknown): Promise<AccountRefusal | undefined> {
  const baseUrl = (sent as { baseUrl?: unknown } | null | undefined)?.baseUrl;
  if (typeof baseUrl !== 'string') return undefined;
  const refusal = await vetDestination(guard, entry.id, entry.hosts, baseUrl);
  return refusal ? { kind: 'forbidden', refusal } : undefined;
}

/** Why an integration's account address cannot be saved as sent. */
export type AccountRefusal =
  | { kind: 'forbidden'; refusal: OutboundRefusal }
  /** The account's host changes and the request carries no credentials: they must be sent again. */
  | { kind: 'credentials_required'; from: string; to: string; fields: string[] };

function parts(url: string | undefined): { origin: string; host: string } | undefined {
  if (url === undefined) return undefined;
  try {
    const u = new URL(url);
    return { origin: u.origin, host: u.host };
  } catch {
    return { origin: url, host: url };
  }
}

/**
 * Checks an integration's account address (entry.accountUrl: a HoneyBook hook, a Light Blue host) as
 * it is about to be saved. `before` is the stored integration on an update. Credentials are bound to the
 * host they were given for: a new host needs them sent again, and the new address must pass the
 * outbound rules (vetDestination). Providers with no account address pass.
 */
export async function checkAccountTarget(
  guard: OutboundGuard,
  entry: ProviderEntry,
  after: { credentials: unknown; settings: unknown; credentialsSent: boolean },
  before?: { credentials: unknown; settings: unknown },
): Promise<AccountRefusal | undefined> {
  if (!entry.accountUrl) return undefined;
  const next = entry.accountUrl(after.credentials, after.settings);
  const previous = before ? entry.accountUrl(before.credentials, before.settings) : undefined;
  if (before && !after.credentialsSent) {
    if (parts(next)?.origin === parts(previous)?.origin) return undefined;
    const shape = (entry.credentialsSchema as { shape?: Record<string, unknown> }).shape;
    return { kind: 'credentials_required', from: parts(previous)?.host ?? '', to: parts(next)?.host ?? '', fields: shape ? Object.keys(shape) : [] };
  }
  if (next === undefined) return undefined;
  const refusal = await vetDestination(guard, entry.id, entry.hosts, next);
  return refusal ? { kind: 'forbidden', refusal } : undefined;
}

export function createRegistry(entries: ProviderEntry[] = PROVIDERS): Registry {
  const map = new Map<string, ProviderEntry>();
  for (const entry of entries) {
    if (map.has(entry.id)) throw new Error(`provider "${entry.id}" is registered twice`);
    map.set(entry.id, entry);
  }
  return map;
}

export const registry: Registry = createRegistry();
