import type { Person } from '../../contracts';
import { capOptional, normalizeEmail } from '../../normalize';

/**
 * Kit (formerly ConvertKit) API v4, https://developers.kit.com/api-reference. Pure: no I/O.
 * Kit matches subscribers by email address without regard to case; we send the lower-cased form so
 * the key we log and the one Kit stores agree.
 */

export const KIT_BASE_URL = 'https://api.kit.com/v4';
export const KIT_HOSTS = ['api.kit.com'];

/** Kit publishes no length for `first_name` or custom field values; 255 is the common text limit (README). */
export const SUBSCRIBER_LIMITS = { firstName: 255, fieldValue: 255 } as const;

export interface KitSubscriberBody {
  email_address: string;
  first_name?: string;
  /** `active` adds without a confirmation email (the couple signed up with us already). */
  state: 'active';
  /** Custom field values by the field's key. */
  fields?: Record<string, string>;
}

/**
 * POST /v4/subscribers, which Kit documents as an upsert by email address. Kit has no last-name field:
 * the first name is what its emails greet with. Merge fields go to the custom fields the settings map
 * our names to; unmapped ones are not sent (Kit refuses fields that do not exist).
 */
export function subscriberBody(person: Person, mergeFields: Record<string, string | number>, fieldKeys: Record<string, string>): KitSubscriberBody {
  const firstName = capOptional(person.firstName, SUBSCRIBER_LIMITS.firstName);
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(mergeFields)) {
    const key = fieldKeys[name];
    const text = capOptional(String(value), SUBSCRIBER_LIMITS.fieldValue);
    if (key && text) fields[key] = text;
  }
  return {
    email_address: normalizeEmail(person.email),
    ...(firstName ? { first_name: firstName } : {}),
    state: 'active',
    ...(Object.keys(fields).length > 0 ? { fields } : {}),
  };
}

/** Tag names as Kit shows them: trimmed, one line, no repeats. */
export function tagNames(tags: string[]): string[] {
  return [...new Set(tags.map((t) => capOptional(t, 255)).filter((t): t is string => t !== undefined))];
}
