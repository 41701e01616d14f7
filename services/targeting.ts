import type { Knex } from 'knex';
import { findOwnAssignments, recordExposure, type AbTestRow } from '../db/repositories/ab-tests';
import { findMemberProfile } from '../db/repositories/members';
import { findOrgTimeZone } from '../db/repositories/organizations';
import { listCompletedTourIds } from '../db/repositories/tours';
import type { Tenant } from '../db/tenant';
import { assignVariant, type Variant } from '../domain/ab';
import { localDate } from '../domain/routes';
import { factsOf, ruleContext, type TargetingFacts } from '../domain/targeting';

/** What targeting knows about the caller: the named facts, and the context rules are evaluated against. */
export interface Audience {
  facts: TargetingFacts;
  context: Record<string, unknown>;
}

/**
 * The caller's facts from their member profile (audience, wedding date in their time zone, attributes)
 * and the tours they completed, with the context the client sent. `now` is injectable for tests.
 */
export async function audienceOf(trx: Knex, auth: Tenant, client: Readonly<Record<string, unknown>>, now: Date = new Date()): Promise<Audience> {
  // One after the other: a transaction is one connection, which runs one query at a time.
  const profile = await findMemberProfile(trx, auth.userId);
  const completed = await listCompletedTourIds(trx, auth.userId);
  const zone = profile?.time_zone ?? (await findOrgTimeZone(trx, auth.orgId));
  const facts = factsOf(
    { audience: profile?.audience ?? null, weddingDate: profile?.wedding_date ?? null, timeZone: profile?.time_zone ?? null },
    completed,
    localDate(now.toISOString(), zone),
  );
  return { facts, context: ruleContext(facts, profile?.attributes ?? {}, client) };
}

/**
 * The caller's variant in each running test, as the listing shows it: the stored one, or the one the
 * hash gives now. Shows only: an exposure is recorded when the steps are (exposeTo).
 */
export async function previewVariants(trx: Knex, auth: Tenant, tests: readonly AbTestRow[]): Promise<Map<string, Variant>> {
  const stored = await findOwnAssignments(trx, auth.userId, tests.map((t) => t.id));
  return new Map(tests.map((t) => [t.id, stored.get(t.id) ?? assignVariant(t.id, auth.userId, t.traffic_split)]));
}

/**
 * The caller is being shown the test's variant: their assignment is stored if it is the first time
 * (from the hash, under the split in force now), and the stored one is returned ever after, whatever
 * the split becomes.
 */
export async function exposeTo(trx: Knex, auth: Tenant, test: AbTestRow): Promise<Variant> {
  return recordExposure(trx, {
    orgId: auth.orgId,
    testId: test.id,
    tourId: test.tour_id,
    userId: auth.userId,
    variant: assignVariant(test.id, auth.userId, test.traffic_split),
  });
}
