import { createHash } from 'node:crypto';
import type { Person } from '../../contracts';
import { capOptional, normalizeEmail } from '../../normalize';

/**
 * A text merge field holds at most 255 characters
 * (https://mailchimp.com/help/manage-audience-signup-form-fields/, "Field types"); FNAME and LNAME are
 * text fields in every audience.
 */
export const MERGE_TEXT_MAX = 255;

/**
 * Pure translation between our shapes and the Mailchimp Marketing API 3.0. No I/O, no clock.
 * Reference: https://mailchimp.com/developer/marketing/api/list-members/ and
 * https://mailchimp.com/developer/marketing/api/list-member-tags/.
 */

/** The member id Mailchimp uses in paths: MD5 of the lower-cased address. */
export function subscriberHash(email: string): string {
  return createHash('md5').update(normalizeEmail(email)).digest('hex');
}

/** An API key ends in its data centre (`…-us6`); requests go to that data centre's host. */
export function dataCenter(apiKey: string): string {
  const match = /-([a-z]+\d+)$/.exec(apiKey.trim());
  if (!match) throw new Error('a Mailchimp API key ends in its data centre, e.g. "-us6"');
  return match[1]!;
}

/** Every data centre's API host: the key picks one, and its credentials go to no other host. */
export const MAILCHIMP_HOSTS = [/^[a-z]+\d+\.api\.mailchimp\.com$/];

export function baseUrlFor(apiKey: string): string {
  return `https://${dataCenter(apiKey)}.api.mailchimp.com/3.0`;
}

/** Basic auth with any user name and the key as the password, as the Fundamentals page shows. */
export function authorization(apiKey: string): string {
  return `Basic ${Buffer.from(`anystring:${apiKey}`).toString('base64')}`;
}

export type StatusIfNew = 'subscribed' | 'pending';

/**
 * PUT /lists/{list_id}/members/{subscriber_hash}. Only `status_if_new`, never `status`: an existing
 * member who unsubscribed stays unsubscribed. FNAME and LNAME are in every audience by default; other
 * merge fields are sent under the tags the settings map our names to (`resumeUrl` -> `RESUMEURL`), or
 * as given when unmapped.
 */
export function memberBody(
  person: Person,
  opts: { statusIfNew: StatusIfNew; mergeFields?: Record<string, string | number>; mergeFieldTags: Record<string, string> },
): { email_address: string; status_if_new: StatusIfNew; merge_fields: Record<string, string | number> } {
  const merge: Record<string, string | number> = {};
  const first = capOptional(person.firstName, MERGE_TEXT_MAX);
  const last = capOptional(person.lastName, MERGE_TEXT_MAX);
  if (first) merge.FNAME = first;
  if (last) merge.LNAME = last;
  const weddingTag = opts.mergeFieldTags.weddingDate;
  if (person.weddingDate && weddingTag) merge[weddingTag] = person.weddingDate;
  for (const [name, value] of Object.entries(opts.mergeFields ?? {})) merge[opts.mergeFieldTags[name] ?? name] = value;
  // Mailchimp matches members by the MD5 of the lower-cased address (the path's subscriber hash), and
  // answers 400 when the body's address hashes differently, so the body carries the same lower-cased form.
  return { email_address: normalizeEmail(person.email), status_if_new: opts.statusIfNew, merge_fields: merge };
}

/** POST /lists/{list_id}/members/{subscriber_hash}/tags: `active` adds a tag, `inactive` removes it. */
export function tagsBody(tags: string[], status: 'active' | 'inactive'): { tags: { name: string; status: 'active' | 'inactive' }[] } {
  const names = [...new Set(tags.map((t) => t.trim()).filter(Boolean))];
  return { tags: names.map((name) => ({ name, status })) };
}

export interface JourneyStep {
  journeyId: number | string;
  stepId: number | string;
}

/** POST /customer-journeys/journeys/{journey_id}/steps/{step_id}/actions/trigger */
export function journeyTriggerPath(step: JourneyStep): string {
  return `customer-journeys/journeys/${encodeURIComponent(String(step.journeyId))}/steps/${encodeURIComponent(String(step.stepId))}/actions/trigger`;
}
