import { Context } from '@temporalio/activity';
import type { Db } from '../db/knex';
import { pseudonymise } from '../db/pseudonyms';
import { daysWithEventsBefore, peopleWithEventsOn, pruneAggregates, rollUpDay } from '../db/repositories/retention';
import { retentionCutoffs } from '../domain/analytics';

export interface RetentionDeps {
  /** The worker's role (tourhub_worker): retention reads what it rolls up and deletes, for every organisation. */
  db: Db;
  pseudonymKey: Uint8Array;
  retentionDays: number;
  aggregateRetentionDays: number;
}

/** The retention job's steps (workflows/analytics-retention.ts), each idempotent on its own. */
export function createRetentionActivities(deps: RetentionDeps) {
  return {
    /** The cut-off days of a run as of `asOf`, from this worker's configuration. */
    async planRetention(input: { asOf: string }): Promise<{ rawBefore: string; aggregatesBefore: string }> {
      return retentionCutoffs(input.asOf, deps.retentionDays, deps.aggregateRetentionDays);
    },

    async expiredEventDays(input: { before: string; limit: number }): Promise<string[]> {
      return daysWithEventsBefore(deps.db, input.before, input.limit);
    },

    /** One day's raw events, rolled up under pseudonyms and deleted in one transaction. */
    async rollUpEventDay(input: { day: string }): Promise<{ events: number; rows: number }> {
      const people = await peopleWithEventsOn(deps.db, input.day);
      Context.current().heartbeat();
      const pseudonyms = people.map((p) => ({ orgId: p.organization_id, userId: p.user_id, key: pseudonymise(deps.pseudonymKey, p.organization_id, p.user_id) }));
      return rollUpDay(deps.db, input.day, pseudonyms);
    },

    async pruneAggregates(input: { before: string }): Promise<{ anonymous: number; pseudonymous: number }> {
      return pruneAggregates(deps.db, input.before);
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
