import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { ConnectorError } from './errors';

/**
 * What people type, made into what vendors accept. Pure and shared by every mapping: phones through
 * libphonenumber-js (Google's libphonenumber metadata), text capped at a vendor's documented length
 * without splitting a character, emails in the form each vendor matches them by.
 *
 * Each mapping states its vendor's limits next to the call (with the reference it took them from);
 * this module only knows how to apply a limit, never what the limit is.
 */

export interface ParsedPhone {
  /** `+14155550123`: at most 15 digits after the plus (ITU-T E.164). */
  e164: string;
  /** The E.164 digits without the plus, as Vonage's SMS API takes `to`. */
  digits: string;
  /** The country calling code, `1`. */
  countryCallingCode: string;
  /** The national significant number, `4155550123` (PayPal's `national_number`). */
  nationalNumber: string;
  /** `+1 415 555 0123`: for vendors that store a phone as free text. */
  international: string;
  /** `1234` from `ext. 1234`, `x1234`, `#1234`; undefined without one. */
  extension: string | undefined;
}

/**
 * A phone number as typed (`+1 (415) 555-0123 ext. 1234`, `00 44 20 7946 0958`, `415.555.0123`) parsed
 * into its parts, or undefined when it is not a possible number. Without a leading `+` (or `00`) the
 * number needs `defaultCountry`; without one it is undefined rather than guessed.
 */
export function parsePhone(raw: string | undefined | null, defaultCountry?: CountryCode): ParsedPhone | undefined {
  if (raw === undefined || raw === null) return undefined;
  const text = raw.normalize('NFKC').trim();
  if (text === '') return undefined;
  // libphonenumber reads a leading international prefix only for a known country; `00` is the common one.
  const prepared = text.startsWith('00') ? `+${text.slice(2)}` : text;
  let parsed;
  try {
    parsed = parsePhoneNumberFromString(prepared, defaultCountry ? { defaultCountry } : undefined);
  } catch {
    return undefined;
  }
  if (!parsed || !parsed.isPossible()) return undefined;
  const e164 = parsed.number;
  return {
    e164,
    digits: e164.slice(1),
    countryCallingCode: parsed.countryCallingCode,
    nationalNumber: parsed.nationalNumber,
    // Formatted from the number alone: libphonenumber would append the extension itself.
    international: parsePhoneNumberFromString(e164)?.formatInternational() ?? e164,
    extension: parsed.ext ? String(parsed.ext) : undefined,
  };
}

/**
 * A phone for a vendor that stores free text and has no extension field: the international format
 * with the extension written the way people read it (`+1 415 555 0123 ext. 1234`), cut to `max`. An
 * unparseable phone is sent as typed (on one line, capped): a CRM keeps what the couple wrote.
 */
export function phoneText(raw: string | undefined, max: number): string | undefined {
  if (raw === undefined) return undefined;
  const parsed = parsePhone(raw);
  const text = parsed ? `${parsed.international}${parsed.extension ? ` ext. ${parsed.extension}` : ''}` : oneLine(raw);
  const fitted = parsed && text.length > max ? parsed.international : text;
  const out = capText(fitted, max);
  return out === '' ? undefined : out;
}

/** Line breaks and runs of white space as one space, trimmed: for single-line vendor fields. */
export function oneLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/**
 * At most `max` UTF-16 code units (JavaScript's and most JSON APIs' "characters"), cut on a code point
 * boundary so a name in a non-Latin script or an emoji never becomes a lone surrogate, and trimmed.
 * Counting code units rather than code points errs on the short side for vendors that count either.
 */
export function capText(value: string, max: number): string {
  const text = value.normalize('NFC').trim();
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end).trimEnd();
}

/** `capText`, or undefined when nothing is left: optional vendor fields are then left out, not sent empty. */
export function capOptional(value: string | undefined | null, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  const out = capText(oneLine(value), max);
  return out === '' ? undefined : out;
}

/** At most `maxBytes` bytes of UTF-8, cut on a code point boundary (for limits stated in bytes). */
export function capBytes(value: string, maxBytes: number): string {
  const text = value.normalize('NFC');
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/**
 * The email as a key: trimmed, Unicode NFC, lower case. Vendors that match case-insensitively
 * (Mailchimp's subscriber hash, Stripe's customer list filter, which is case-sensitive and so needs
 * one form on both the write and the search) all meet on this one form. RFC 5321 lets a server treat
 * the local part as case-sensitive; no mail host our couples use does, and two records for one
 * person are the failure people actually see.
 */
export function normalizeEmail(email: string): string {
  return email.normalize('NFC').trim().toLowerCase();
}

/** The person's name as one string, or undefined when neither part has text. */
export function fullName(person: { firstName?: string | undefined; lastName?: string | undefined }): string | undefined {
  const name = [person.firstName, person.lastName]
    .map((s) => (s === undefined ? '' : oneLine(s)))
    .filter(Boolean)
    .join(' ');
  return name || undefined;
}

/** Calendar attendees: emails in key form, names on one line and capped; duplicates (by email) dropped. */
export function normalizeAttendees(attendees: readonly { email: string; name?: string | undefined }[], nameMax: number): { email: string; name?: string }[] {
  const seen = new Set<string>();
  const out: { email: string; name?: string }[] = [];
  for (const a of attendees) {
    const email = normalizeEmail(a.email);
    if (email === '' || seen.has(email)) continue;
    seen.add(email);
    const name = capOptional(a.name, nameMax);
    out.push({ email, ...(name ? { name } : {}) });
  }
  return out;
}

/**
 * A text message's recipient in E.164 and its body within the vendor's limit. An extension cannot be
 * dialled by a text, so it is dropped; a number that does not parse cannot be texted, and sending the
 * same request again will not change that, so it fails for good.
 */
export function smsInput(provider: string, input: { to: string; body: string }, bodyMax: number): { to: string; body: string; digits: string } {
  const parsed = parsePhone(input.to);
  if (!parsed) {
    throw new ConnectorError({
      code: 'bad_request',
      retryable: false,
      provider,
      message: 'The recipient is not a phone number that can receive a text (expected an international number such as +14155550123)',
    });
  }
  return { to: parsed.e164, digits: parsed.digits, body: capText(input.body, bodyMax) };
}
