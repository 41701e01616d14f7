import type { Person } from '../../contracts';
import { capOptional, normalizeEmail, phoneText } from '../../normalize';

/**
 * ActiveCampaign API v3 (https://developers.activecampaign.com/reference). Pure: no I/O.
 * Each account has its own API URL (Settings > Developer), `https://<account>.api-us1.com`, and the
 * docs warn against building it from the account name, so the organisation pastes it.
 */

/** ActiveCampaign's API hosts: an API URL elsewhere would receive the account's token. */
export const ACTIVECAMPAIGN_HOSTS = [/^[a-z0-9-]+\.api-us1\.com$/, /^[a-z0-9-]+\.activehosted\.com$/];

/**
 * The contact's text fields: ActiveCampaign publishes no lengths; 255 is the length of its contact form
 * fields (README "Assumptions to verify"). The phone is free text there, so its extension is kept.
 */
export const CONTACT_LIMITS = { name: 255, phone: 255, fieldValue: 255 } as const;

export interface ContactSync {
  contact: {
    email: string;
    firstName?: string;
    lastName?: string;
    phone?: string;
    fieldValues?: { field: string; value: string }[];
  };
}

/** POST /api/3/contact/sync: creates the contact or updates the one with this email (its upsert). */
export function contactSyncBody(person: Person, mergeFields: Record<string, string | number>, fieldIds: Record<string, string>): ContactSync {
  const firstName = capOptional(person.firstName, CONTACT_LIMITS.name);
  const lastName = capOptional(person.lastName, CONTACT_LIMITS.name);
  const phone = phoneText(person.phone, CONTACT_LIMITS.phone);
  const fieldValues = Object.entries(mergeFields)
    .map(([name, value]) => ({ field: fieldIds[name], value: capOptional(String(value), CONTACT_LIMITS.fieldValue) }))
    .filter((f): f is { field: string; value: string } => f.field !== undefined && f.value !== undefined);
  return {
    contact: {
      email: normalizeEmail(person.email),
      ...(firstName ? { firstName } : {}),
      ...(lastName ? { lastName } : {}),
      ...(phone ? { phone } : {}),
      ...(fieldValues.length > 0 ? { fieldValues } : {}),
    },
  };
}

/** The API base for an account's API URL: `<api url>/api/3`. */
export function apiBase(apiUrl: string): string {
  return `${new URL(apiUrl).origin}/api/3`;
}

/** ActiveCampaign answers ids as strings; a tag's name is `tag`. */
export interface AcTag {
  id: string;
  tag: string;
}

export function exactTag(tags: AcTag[] | undefined, name: string): AcTag | undefined {
  const wanted = name.trim().toLowerCase();
  return (tags ?? []).find((t) => t.tag.trim().toLowerCase() === wanted);
}
