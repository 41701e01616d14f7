import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptionsAction } from '@temporalio/client';
import type { Config } from '../config';
import { ANALYTICS_RETENTION_WORKFLOW_TYPE } from '../workflows/analytics-retention';
import { isUndecodable } from './payload-codec';

/** The one retention schedule of a namespace; its runs are `analytics-retention-<time>` in the Temporal UI. */
export const RETENTION_SCHEDULE_ID = 'analytics-retention';

/**
 * Creates the retention schedule, or brings an existing one to this configuration (cron, task queue,
 * periods in its note): every worker calls it at start, so a changed ANALYTICS_RETENTION_CRON takes
 * effect on the next deploy and a second worker changes nothing. Each call seals the action again with
 * the active key, so after a key rotation the schedule follows at the next worker start. A run still going when the next is
 * due makes the next one skip; a worker down at the due time catches up within a day.
 */
export async function ensureRetentionSchedule(client: Client, config: Config): Promise<'created' | 'updated' | 'recreated'> {
  const { retentionDays, aggregateRetentionDays, retentionCron } = config.analytics;
  const spec = { cronExpressions: [retentionCron] };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: ANALYTICS_RETENTION_WORKFLOW_TYPE,
    workflowId: RETENTION_SCHEDULE_ID,
    taskQueue: config.temporal.taskQueue,
    args: [{}],
    staticSummary: `Analytics retention: raw events after ${retentionDays} days, aggregates after ${aggregateRetentionDays} days`,
  };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' as const };
  const note = `Rolls raw tour analytics older than ${retentionDays} days into pseudonymous daily aggregates and deletes them; deletes aggregates older than ${aggregateRetentionDays} days (times in UTC).`;
  const create = () => client.schedule.create({ scheduleId: RETENTION_SCHEDULE_ID, spec, action, policies, state: { note } });
  try {
    await create();
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(RETENTION_SCHEDULE_ID);
  try {
    await handle.update((previous) => ({ ...previous, spec, action, policies, state: { ...previous.state, note } }));
    return 'updated';
  } catch (err) {
    // The schedule's action (input, summary) is sealed by the payload codec: sealed under a key no longer
    // in the keyring, it cannot be read to be updated. Everything in it comes from this configuration,
    // so it is made again rather than keeping every worker from starting.
    if (!isUndecodable(err)) throw err;
  }
  await handle.delete();
  await create();
  return 'recreated';
}
