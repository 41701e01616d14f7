import { googleCalendar } from './calendar/google';
import { outlookCalendar } from './calendar/outlook';
import { honeybook } from './crm/honeybook';
import { lightblue } from './crm/lightblue';
import { tave } from './crm/tave';
import { mailchimp } from './email/mailchimp';
import { stripe } from './payment/stripe';
import type { ProviderEntry } from './registry-types';
import { twilio } from './sms/twilio';

export type { ProviderEntry } from './registry-types';

/** Provider id -> entry. One line per provider; a provider is available once it is listed here. */
const PROVIDERS: ProviderEntry[] = [
  honeybook,
  tave,
  lightblue,
  googleCalendar,
  outlookCalendar,
  stripe,
  mailchimp,
  twilio,
];

export type Registry = ReadonlyMap<string, ProviderEntry>;

export function createRegistry(entries: ProviderEntry[] = PROVIDERS): Registry {
  const map = new Map<string, ProviderEntry>();
  for (const entry of entries) {
    if (map.has(entry.id)) throw new Error(`provider "${entry.id}" is registered twice`);
    map.set(entry.id, entry);
  }
  return map;
}

export const registry: Registry = createRegistry();
