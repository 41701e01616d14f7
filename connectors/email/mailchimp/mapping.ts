import { createHash } from 'node:crypto';
import type { SyncFields } from '../../../domain/conflict';
import type { Person, RemoteRecord } from '../../contracts';
import { capOptional, capText, normalizeEmail } from '../../normalize';

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
 * Where seed 001's merge fields go in the audience unless the settings map them elsewhere: the resume
 * link, the completion date, rating, minutes spent and the organisation's plan; the step left at and how
 * far the couple got.
 */
export const DEFAULT_MERGE_TAGS: Readonly<Record<string, string>> = {
  resumeUrl: 'RESUMEURL',
  tourCompletedAt: 'TOURDONE',
  tourRating: 'TOURRATING',
  tourMinutes: 'TOURMINS',
  subscriptionTier: 'PLANTIER',
  abandonedStep: 'TOURSTEP',
  progressPercent: 'TOURPCT',
};

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
  // Seed 001's merge fields carry the tour's own text (the step left at, the plan): a text field's cap.
  for (const [name, value] of Object.entries(opts.mergeFields ?? {})) merge[opts.mergeFieldTags[name] ?? name] = typeof value === 'string' ? capText(value, MERGE_TEXT_MAX) : value;
  // Mailchimp matches members by the MD5 of the lower-cased address (the path's subscriber hash), and
  // answers 400 when the body's address hashes differently, so the body carries the same lower-cased form.
  return { email_address: normalizeEmail(person.email), status_if_new: opts.statusIfNew, merge_fields: merge };
}

/** Our values as Mailchimp keeps them (two-way sync compares these): FNAME and LNAME cut as memberBody cuts them. */
export function mailchimpStoredFields(fields: SyncFields): SyncFields {
  const out = { ...fields };
  for (const name of ['first_name', 'last_name'] as const) if (typeof out[name] === 'string') out[name] = capOptional(out[name], MERGE_TEXT_MAX) ?? null;
  return out;
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

/** The parts of a list member two-way sync reads (GET /lists/{list_id}/members with `fields`). */
export interface MailchimpMember {
  id?: string;
  email_address?: string;
  status?: string;
  merge_fields?: Record<string, unknown>;
  tags?: { id?: number; name?: string }[];
  last_changed?: string;
}

/** What GET /lists/{list_id}/members returns past `fields`. */
export interface MailchimpMembersPage {
  members?: MailchimpMember[];
  total_items?: number;
}

/** Only what a pass reads: the `fields` parameter keeps each page small. */
export const MEMBER_FIELDS = 'members.id,members.email_address,members.status,members.merge_fields.FNAME,members.merge_fields.LNAME,members.tags,members.last_changed,total_items';

/**
 * A member as two-way sync compares it, keyed by the lower-cased address: FNAME and LNAME as first and
 * last name, and each tag as `tag:<name>` (lower case) set to true.
 */
export function mailchimpMemberRecord(member: MailchimpMember): RemoteRecord | undefined {
  if (typeof member.email_address !== 'string' || member.email_address.trim() === '') return undefined;
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
  const fields: SyncFields = { first_name: text(member.merge_fields?.FNAME), last_name: text(member.merge_fields?.LNAME) };
  for (const tag of member.tags ?? []) if (tag.name) fields[`tag:${tag.name.trim().toLowerCase()}`] = true;
  const key = normalizeEmail(member.email_address);
  return { key, remoteId: member.id ?? subscriberHash(key), fields, updatedAt: member.last_changed ?? null };
}
