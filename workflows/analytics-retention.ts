import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { RetentionActivities } from '../activities/retention';
import { utcDay } from '../domain/analytics';

/** The workflow type the retention schedule starts (workflows/index.ts exports it under this name). */
export const ANALYTICS_RETENTION_WORKFLOW_TYPE = 'analyticsRetention';

export interface AnalyticsRetentionInput {
  /** The UTC day the run acts as of (YYYY-MM-DD); default: the day the run starts. */
  asOf?: string;
}

export interface AnalyticsRetentionResult {
  asOf: string;
  rawBefore: string;
  aggregatesBefore: string;
  daysRolledUp: number;
  eventsRolledUp: number;
  aggregatesPruned: { anonymous: number; pseudonymous: number };
}

const { planRetention, expiredEventDays, pruneAggregates } = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});
const { rollUpEventDay } = proxyActivities<RetentionActivities>({
  // One day of one busy deployment's events: a bounded transaction, but not a small one.
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** Days rolled up per run before continuing as new (a first run over years of events keeps its history short). */
const DAYS_PER_RUN = 200;

/**
 * The data lifecycle of tour analytics, started daily by the `analytics-retention` schedule: raw events
 * of days older than the retention period are rolled into per-person daily aggregates under a
 * pseudonym and deleted, one day per transaction; aggregates older than two years are deleted. Every
 * step works on whole UTC days fixed by `asOf`, so a second run as of the same day changes nothing,
 * and a retried step redoes nothing.
 */
export async function analyticsRetention(input: AnalyticsRetentionInput = {}, carried?: AnalyticsRetentionResult): Promise<AnalyticsRetentionResult> {
  const asOf = input.asOf ?? utcDay(Date.now());
  const { rawBefore, aggregatesBefore } = await planRetention({ asOf });
  let daysRolledUp = carried?.daysRolledUp ?? 0;
  let eventsRolledUp = carried?.eventsRolledUp ?? 0;
  for (let rolledThisRun = 0; ; ) {
    const days = await expiredEventDays({ before: rawBefore, limit: 31 });
    if (days.length === 0) break;
    for (const day of days) {
      const { events } = await rollUpEventDay({ day });
      daysRolledUp++;
      eventsRolledUp += events;
      rolledThisRun++;
    }
    if (rolledThisRun >= DAYS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof analyticsRetention>({ asOf }, { asOf, rawBefore, aggregatesBefore, daysRolledUp, eventsRolledUp, aggregatesPruned: { anonymous: 0, pseudonymous: 0 } });
    }
  }
  const aggregatesPruned = await pruneAggregates({ before: aggregatesBefore });
  return { asOf, rawBefore, aggregatesBefore, daysRolledUp, eventsRolledUp, aggregatesPruned };
}
