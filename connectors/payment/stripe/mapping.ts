import { createHash } from 'node:crypto';
import type { SyncFields } from '../../../domain/conflict';
import type { Person, RemoteRecord } from '../../contracts';
import { capOptional, fullName as joinedName, normalizeEmail, oneLine, parsePhone } from '../../normalize';

/**
 * Pure translation between our shapes and Stripe's customer object. No I/O, no clock.
 * Stripe's metadata limits: 50 keys, key names up to 40 characters without square brackets, values up
 * to 500 characters (https://docs.stripe.com/metadata).
 */

export const METADATA_KEYS = {
  userId: 'tourhub_user_id',
  weddingDate: 'tourhub_wedding_date',
  planInterest: 'tourhub_plan_interest',
  planInterestSource: 'tourhub_plan_interest_source',
  planInterestAt: 'tourhub_plan_interest_at',
  phoneExtension: 'tourhub_phone_extension',
} as const;

/**
 * Customer field limits from https://docs.stripe.com/api/customers/create: `name` at most 256
 * characters, `phone` at most 20. Stripe has no extension field, so an extension goes to metadata.
 */
export const CUSTOMER_LIMITS = { name: 256, phone: 20 } as const;

/**
 * The email as Stripe should store and search it. The `email` filter of GET /v1/customers is
 * case-sensitive (https://docs.stripe.com/api/customers/list#list_customers-email), so the same
 * lower-cased form is written on create and used in every search: `Ada@Example.com` and
 * `ada@example.com` are one customer.
 */
export function stripeEmail(email: string): string {
  return normalizeEmail(email);
}

/** E.164 (at most 16 characters) when the number parses; otherwise the text as typed if it fits, else nothing. */
export function stripePhone(raw: string | undefined): { phone?: string; extension?: string } {
  if (!raw) return {};
  const parsed = parsePhone(raw);
  if (parsed) return { phone: parsed.e164, ...(parsed.extension ? { extension: parsed.extension } : {}) };
  const typed = oneLine(raw);
  return typed !== '' && typed.length <= CUSTOMER_LIMITS.phone ? { phone: typed } : {};
}

const MAX_KEY = 40;
const MAX_VALUE = 500;
const MAX_IDEMPOTENCY_KEY = 255;

/** The operations that write, each with its own key so one event's key never meets two different requests. */
export type StripeWrite = 'customer.create' | 'customer.update' | 'subscription-interest';

/**
 * Stripe compares a replayed key's parameters with the first request's and answers 400 if they differ,
 * so a caller that passes one key to upsertCustomer and then recordSubscriptionInterest must not send it
 * twice as-is: the operation is appended. Keys are at most 255 characters; longer ones are hashed.
 */
export function stripeIdempotencyKey(key: string, op: StripeWrite): string {
  const plain = `${key}:${op}`;
  if (plain.length <= MAX_IDEMPOTENCY_KEY) return plain;
  return `tourhub:${createHash('sha256').update(key).digest('hex')}:${op}`;
}

/** Drops keys Stripe would reject and truncates long values, so a long note never fails a delivery. */
export function toStripeMetadata(input: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || key.length === 0 || key.length > MAX_KEY || /[[\]]/.test(key)) continue;
    out[key] = value.slice(0, MAX_VALUE);
  }
  return out;
}

export function fullName(person: Person): string | undefined {
  return capOptional(joinedName(person), CUSTOMER_LIMITS.name);
}

/** Metadata we keep on the customer: our user id and wedding date, plus whatever the caller adds. */
export function personMetadata(person: Person, extra: Record<string, string> = {}): Record<string, string> {
  return toStripeMetadata({
    [METADATA_KEYS.userId]: person.externalId,
    [METADATA_KEYS.weddingDate]: person.weddingDate,
    [METADATA_KEYS.phoneExtension]: stripePhone(person.phone).extension,
    ...extra,
  });
}

export interface CustomerCreate {
  email: string;
  name?: string;
  phone?: string;
  metadata: Record<string, string>;
}

export function customerCreateParams(person: Person, extra?: Record<string, string>): CustomerCreate {
  const name = fullName(person);
  const { phone } = stripePhone(person.phone);
  return {
    email: stripeEmail(person.email),
    ...(name ? { name } : {}),
    ...(phone ? { phone } : {}),
    metadata: personMetadata(person, extra),
  };
}

/** The parts of a Stripe customer we read. */
export interface ExistingCustomer {
  id: string;
  name?: string | null;
  phone?: string | null;
  metadata?: Record<string, string> | null;
}

export interface CustomerUpdate {
  name?: string;
  phone?: string;
  metadata?: Record<string, string>;
}

/**
 * What to change on a customer the planner may already bill: name and phone only where Stripe has none
 * (the planner's billing name wins), metadata keys only where they differ. Empty when nothing changes,
 * so a retry after a successful write sends nothing (and cannot trip Stripe's parameter check).
 */
export function customerUpdateParams(existing: ExistingCustomer, person: Person, extra?: Record<string, string>): CustomerUpdate {
  const update: CustomerUpdate = {};
  const name = fullName(person);
  if (name && !existing.name) update.name = name;
  const { phone } = stripePhone(person.phone);
  if (phone && !existing.phone) update.phone = phone;
  const current = existing.metadata ?? {};
  const changed = Object.entries(personMetadata(person, extra)).filter(([k, v]) => current[k] !== v);
  if (changed.length > 0) update.metadata = Object.fromEntries(changed);
  return update;
}

export function isEmptyUpdate(update: CustomerUpdate): boolean {
  return Object.keys(update).length === 0;
}

/**
 * Stripe may hold several customers with one email. Prefer the one already linked to our user, else the
 * newest (the list is sorted newest first).
 */
export function pickCustomer<T extends ExistingCustomer>(candidates: T[], person: Person): T | undefined {
  if (person.externalId) {
    const linked = candidates.find((c) => c.metadata?.[METADATA_KEYS.userId] === person.externalId);
    if (linked) return linked;
  }
  return candidates[0];
}

export function subscriptionInterestMetadata(input: { plan: string; source: string; occurredAt: string }): Record<string, string> {
  return toStripeMetadata({
    [METADATA_KEYS.planInterest]: input.plan,
    [METADATA_KEYS.planInterestSource]: input.source,
    [METADATA_KEYS.planInterestAt]: input.occurredAt,
  });
}

/** The deployment's base URL (a loopback fake in tests) -> the SDK's host/port/protocol options. */
export function sdkAddress(baseUrl: string | undefined): { host: string; port: number; protocol: 'http' | 'https' } | undefined {
  if (!baseUrl) return undefined;
  const url = new URL(baseUrl);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  const port = url.port ? Number(url.port) : protocol === 'http' ? 80 : 443;
  return { host: url.hostname, port, protocol };
}

/** A customer as two-way sync compares it, keyed by its lower-cased email. Customers without one are nobody we sync. */
export function stripeCustomerRecord(customer: ExistingCustomer & { email?: string | null; deleted?: unknown }, updatedAt: string | null): RemoteRecord | undefined {
  if (customer.deleted === true || typeof customer.email !== 'string' || customer.email.trim() === '') return undefined;
  const blank = (v: string | null | undefined) => (v === undefined || v === null || v.trim() === '' ? null : v.trim());
  return {
    key: stripeEmail(customer.email),
    remoteId: customer.id,
    fields: { name: blank(customer.name), phone: blank(customer.phone), user_id: blank(customer.metadata?.[METADATA_KEYS.userId]) },
    updatedAt,
  };
}

/** Our values as Stripe keeps them (two-way sync compares these): the name cut as fullName cuts it, the phone as stripePhone sends it. */
export function stripeStoredFields(fields: SyncFields): SyncFields {
  const out = { ...fields };
  if (typeof out.name === 'string') out.name = capOptional(out.name, CUSTOMER_LIMITS.name) ?? null;
  if (typeof out.phone === 'string') out.phone = stripePhone(out.phone).phone ?? null;
  return out;
}

/** Stripe keeps events for 30 days: an older cursor cannot be caught up from events. */
export const EVENTS_RETAINED_MS = 30 * 86_400_000;
