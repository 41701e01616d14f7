import { createHash } from 'node:crypto';
import type { Person } from '../../contracts';
import { capOptional, normalizeEmail, parsePhone } from '../../normalize';

/**
 * Square's Customers API (https://developer.squareup.com/reference/square/customers-api) and Customer
 * Custom Attributes API. Pure: no I/O.
 */

export const SQUARE_BASE_URLS = { production: 'https://connect.squareup.com', sandbox: 'https://connect.squareupsandbox.com' } as const;
export const SQUARE_HOSTS = ['connect.squareup.com', 'connect.squareupsandbox.com'];

/**
 * CreateCustomer limits (https://developer.squareup.com/reference/square/customers-api/create-customer):
 * `given_name` and `family_name` at most 300 characters, `email_address` at most 254, `phone_number` 9 to
 * 16 digits with an optional `+` and country code (so E.164; Square has no extension field, so an
 * extension goes to the customer's `note`, which the seller sees on the profile), `reference_id` we keep within 255. Idempotency keys we keep within 45 characters,
 * the shortest limit Square states for one.
 */
export const CUSTOMER_LIMITS = { name: 300, email: 254, referenceId: 255 } as const;
export const IDEMPOTENCY_KEY_MAX = 45;

/** The custom attribute we keep the plan interest in; created on first use. */
export const INTEREST_ATTRIBUTE_KEY = 'tourhub-plan-interest';
export const STRING_SCHEMA = 'https://developer-production-s.squarecdn.com/schemas/v1/common.json#squareup.common.String';

export type SquareWrite = 'customer.create' | 'attribute.definition' | 'attribute.upsert';

/** One key per operation, derived from the caller's, at most 45 characters: the same on every retry. */
export function squareIdempotencyKey(key: string, op: SquareWrite): string {
  return createHash('sha256').update(`${key}:${op}`, 'utf8').digest('hex').slice(0, IDEMPOTENCY_KEY_MAX);
}

/** Square matches `email_address.exact` as stored; we store and search the lower-cased form. */
export function squareEmail(email: string): string {
  return normalizeEmail(email);
}

export interface SquareCustomerCreate {
  idempotencyKey: string;
  emailAddress: string;
  givenName?: string;
  familyName?: string;
  phoneNumber?: string;
  referenceId?: string;
  note?: string;
}

export function customerCreate(person: Person, idempotencyKey: string): SquareCustomerCreate {
  const givenName = capOptional(person.firstName, CUSTOMER_LIMITS.name);
  const familyName = capOptional(person.lastName, CUSTOMER_LIMITS.name);
  const phone = parsePhone(person.phone);
  const referenceId = capOptional(person.externalId, CUSTOMER_LIMITS.referenceId);
  return {
    idempotencyKey: squareIdempotencyKey(idempotencyKey, 'customer.create'),
    emailAddress: squareEmail(person.email),
    ...(givenName ? { givenName } : {}),
    ...(familyName ? { familyName } : {}),
    ...(phone ? { phoneNumber: phone.e164 } : {}),
    ...(referenceId ? { referenceId } : {}),
    ...(phone?.extension ? { note: `Phone extension: ${phone.extension}` } : {}),
  };
}

/** Several customers may share an email: prefer the one linked to our user, else the first. */
export function pickCustomer<T extends { id?: string; referenceId?: string | null }>(customers: T[], person: Person): T | undefined {
  if (person.externalId) {
    const linked = customers.find((c) => c.referenceId === person.externalId);
    if (linked) return linked;
  }
  return customers[0];
}

/** The interest as one line: `premium (tour_completed, 2026-11-23T12:00:00.000Z)`. */
export function interestValue(input: { plan: string; source: string; occurredAt: string }): string {
  return capOptional(`${input.plan} (${input.source}, ${input.occurredAt})`, 1000) ?? input.plan;
}
