import crypto from 'node:crypto';
import { countResults } from '../../db/repositories/ab-tests';
import { pseudonymise } from '../../db/pseudonyms';
import { addDays, utcDay } from '../../domain/analytics';
import { Client } from '@temporalio/client';
import { PayloadCodecError, tourDataConverter } from '../../services/payload-codec';
import { ensureRetentionSchedule, RETENTION_SCHEDULE_ID } from '../../services/retention-schedule';
import { analyticsRetention, type AnalyticsRetentionResult } from '../../workflows/analytics-retention';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { startStack, testSecretBox, type Stack } from '../support/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack.client.schedule.getHandle(RETENTION_SCHEDULE_ID).delete().catch(() => undefined);
  await stack.close();
});

const asOf = utcDay(Date.now());
const noonOf = (day: string) => new Date(`${day}T12:00:00Z`);

/** Everything retention may touch, for this organisation, as comparable text. */
async function snapshot(orgId: string) {
  const raw = await stack.ownerDb('tour_analytics_events').where({ organization_id: orgId }).orderBy('id').pluck('id');
  const daily = await stack.ownerDb('tour_analytics_daily').where({ organization_id: orgId }).orderBy(['day', 'event_type', 'step_key', 'shard']).select('day', 'event_type', 'step_key', 'shard', 'event_count');
  const pseudonymous = await stack.ownerDb('tour_analytics_user_daily')
    .where({ organization_id: orgId })
    .orderBy(['day', 'user_key', 'event_type', 'step_key'])
    .select('day', 'user_key', 'event_type', 'step_key', 'event_count', 'interaction_ms_sum', 'interaction_count');
  return JSON.stringify({ raw, daily, pseudonymous });
}

describe('analytics retention', () => {
  let org: OrgFixture;
  let abTest: { id: string } | undefined;
  let abBefore: Awaited<ReturnType<typeof countResults>>;
  const people = [crypto.randomUUID(), crypto.randomUUID()];
  const dayOf = (offset: number) => addDays(asOf, offset);

  beforeAll(async () => {
    org = await createOrg(stack.ownerDb, { steps: 3 });
    const raw = (user: string, offset: number, type: string, step: number, extra: Record<string, unknown> = {}) => ({
      user_id: user,
      organization_id: org.orgId,
      tour_id: org.tourId,
      event_type: type,
      step_index: step,
      step_key: `step_${step}`,
      timestamp: noonOf(dayOf(offset)),
      created_at: noonOf(dayOf(offset)),
      page_url: `https://app.example/couples/${user}`,
      ...extra,
    });
    await stack.ownerDb('tour_analytics_events').insert([
      // 91 days old: rolled up and deleted.
      raw(people[0]!, -91, 'step_viewed', 0),
      raw(people[0]!, -91, 'step_viewed', 0),
      raw(people[0]!, -91, 'step_completed', 0, { interaction_time_ms: 1500 }),
      raw(people[1]!, -91, 'step_viewed', 0),
      raw(people[1]!, -91, 'help_requested', 1),
      // 95 days old, another day: rolled up too, in its own transaction.
      raw(people[1]!, -95, 'step_viewed', 2),
      // 89 days old: kept as it is.
      raw(people[0]!, -89, 'step_viewed', 1),
    ]);
    // An A/B test (in an organisation of its own) whose runs started 91 and 95 days ago: person 0 started
    // and completed in variant b, person 1 started in a. A client's own event claiming a completion for
    // person 1 does not count.
    const abOrg = await createOrg(stack.ownerDb, { steps: 3 });
    [abTest] = await stack.ownerDb('tour_ab_tests').insert({ organization_id: abOrg.orgId, tour_id: abOrg.tourId, test_name: 'Retained', status: 'running' }).returning('id');
    await stack.ownerDb('tour_ab_assignments').insert(
      ([[people[0]!, 'b'], [people[1]!, 'a']] as const).map(([user, variant]) => ({
        organization_id: abOrg.orgId, ab_test_id: abTest!.id, tour_id: abOrg.tourId, variant, subject_hash: stack.ownerDb.raw('tourhub_ab_subject(?::uuid, ?::uuid)', [abTest!.id, user]),
      })),
    );
    const inTest = (variant: string, key: string) => ({
      organization_id: abOrg.orgId, tour_id: abOrg.tourId, event_key: key, event_data: JSON.stringify({ ab_test_id: abTest!.id, ab_test_variant: variant }),
    });
    await stack.ownerDb('tour_analytics_events').insert([
      raw(people[0]!, -95, 'tour_started', 0, inTest('b', `${crypto.randomUUID()}:1:0`)),
      raw(people[0]!, -91, 'tour_completed', 2, inTest('b', `${crypto.randomUUID()}:9:0`)),
      raw(people[1]!, -91, 'tour_started', 0, inTest('a', `${crypto.randomUUID()}:1:0`)),
      raw(people[1]!, -91, 'tour_completed', 2, inTest('a', `c:${people[1]}:${crypto.randomUUID()}`)),
    ]);
    abBefore = await countResults(stack.ownerDb, abTest!.id);
    // Aggregates just past two years are deleted; just inside, kept.
    for (const offset of [-731, -729]) {
      await stack.ownerDb('tour_analytics_daily').insert({ organization_id: org.orgId, tour_id: org.tourId, day: dayOf(offset), event_type: 'step_viewed', step_index: 0, step_key: 'step_0', event_count: 9 });
      await stack.ownerDb('tour_analytics_user_daily').insert({
        organization_id: org.orgId, tour_id: org.tourId, day: dayOf(offset), user_key: crypto.randomBytes(32), event_type: 'step_viewed', step_index: 0, step_key: 'step_0', event_count: 9,
      });
    }
  });

  it('is a Temporal Schedule, created once and brought up to date by every worker start', async () => {
    await ensureRetentionSchedule(stack.client, stack.config);
    expect(await ensureRetentionSchedule(stack.client, stack.config)).toBe('updated');
    const described = await stack.client.schedule.getHandle(RETENTION_SCHEDULE_ID).describe();
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'analyticsRetention', taskQueue: stack.config.temporal.taskQueue });
    expect(described.spec.calendars?.length ?? 0).toBeGreaterThan(0); // the cron expression, as the server keeps it
    expect(described.state.note).toContain('90 days');
  });

  it('makes the schedule again when its action was sealed with a key the keyring no longer holds', async () => {
    // A deployment whose old key was dropped before any worker re-sealed the schedule with the new one.
    const retired = new Client({
      connection: stack.client.connection,
      namespace: stack.config.temporal.namespace,
      dataConverter: tourDataConverter(testSecretBox(`retired:${Buffer.alloc(32, 4).toString('base64')}`, 'retired')),
    });
    await stack.client.schedule.getHandle(RETENTION_SCHEDULE_ID).delete().catch(() => undefined);
    expect(await ensureRetentionSchedule(retired, stack.config)).toBe('created');
    await expect(stack.client.schedule.getHandle(RETENTION_SCHEDULE_ID).describe()).rejects.toThrow(PayloadCodecError);
    expect(await ensureRetentionSchedule(stack.client, stack.config)).toBe('recreated');
    const described = await stack.client.schedule.getHandle(RETENTION_SCHEDULE_ID).describe();
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'analyticsRetention', taskQueue: stack.config.temporal.taskQueue });
    expect(await ensureRetentionSchedule(stack.client, stack.config)).toBe('updated');
  });

  it('rolls events older than 90 days into pseudonymous daily aggregates, deletes them, and prunes aggregates past two years', async () => {
    const anonymousBefore = await stack.ownerDb('tour_analytics_daily').where({ organization_id: org.orgId, day: dayOf(-91) }).sum<{ n: number }[]>({ n: 'event_count' });
    const handle = stack.client.schedule.getHandle(RETENTION_SCHEDULE_ID);
    await handle.trigger();
    let runId: string | undefined;
    const deadline = Date.now() + 20_000;
    while (!runId) {
      const action = (await handle.describe()).info.recentActions.at(-1)?.action;
      runId = action?.workflow.workflowId;
      if (!runId && Date.now() > deadline) throw new Error('the schedule started no run');
      if (!runId) await new Promise((r) => setTimeout(r, 100));
    }
    const result: AnalyticsRetentionResult = await stack.client.workflow.getHandle(runId).result();
    expect(result).toMatchObject({ asOf, rawBefore: dayOf(-90), aggregatesBefore: dayOf(-730) });
    expect(result.daysRolledUp).toBeGreaterThanOrEqual(2);
    expect(result.eventsRolledUp).toBeGreaterThanOrEqual(6);
    expect(result.aggregatesPruned.anonymous).toBeGreaterThanOrEqual(1);

    const left = await stack.ownerDb('tour_analytics_events').where({ organization_id: org.orgId }).select('event_type', 'step_key', 'timestamp');
    expect(left).toEqual([{ event_type: 'step_viewed', step_key: 'step_1', timestamp: noonOf(dayOf(-89)) }]);

    const kept = await stack.ownerDb('tour_analytics_user_daily')
      .where({ organization_id: org.orgId })
      .whereIn('day', [dayOf(-91), dayOf(-95)])
      .orderBy(['day', 'event_type'])
      .select('day', 'user_key', 'event_type', 'step_key', 'event_count', 'interaction_ms_sum', 'interaction_count');
    const key = (user: string) => pseudonymise(stack.lifecycle.analytics.pseudonymKey, org.orgId, user);
    const row = (day: string, user: string, type: string, step: string, count: number, ms = 0, timed = 0) => ({
      day,
      user_key: key(user),
      event_type: type,
      step_key: step,
      event_count: count,
      interaction_ms_sum: ms,
      interaction_count: timed,
    });
    expect(kept).toEqual(
      expect.arrayContaining([
        row(dayOf(-95), people[1]!, 'step_viewed', 'step_2', 1),
        row(dayOf(-91), people[0]!, 'step_viewed', 'step_0', 2),
        row(dayOf(-91), people[1]!, 'step_viewed', 'step_0', 1),
        row(dayOf(-91), people[0]!, 'step_completed', 'step_0', 1, 1500, 1),
        row(dayOf(-91), people[1]!, 'help_requested', 'step_1', 1),
      ]),
    );
    expect(kept).toHaveLength(5);
    // The pseudonym is not the user id, and nothing kept names either person.
    const everything = JSON.stringify(await stack.ownerDb('tour_analytics_user_daily').where({ organization_id: org.orgId }).select('*'));
    for (const p of people) expect(everything).not.toContain(p);
    expect(Buffer.compare(key(people[0]!), Buffer.from(people[0]!.replace(/-/g, ''), 'hex'))).not.toBe(0);

    // The anonymous counts were kept at insert time and stay; two-year-old aggregates are gone.
    const anonymousAfter = await stack.ownerDb('tour_analytics_daily').where({ organization_id: org.orgId, day: dayOf(-91) }).sum<{ n: number }[]>({ n: 'event_count' });
    expect(Number(anonymousAfter[0]!.n)).toBe(Number(anonymousBefore[0]!.n));
    expect(Number(anonymousAfter[0]!.n)).toBe(5);
    for (const table of ['tour_analytics_daily', 'tour_analytics_user_daily']) {
      const days = await stack.ownerDb(table).where({ organization_id: org.orgId }).whereIn('day', [dayOf(-731), dayOf(-729)]).pluck('day');
      expect({ table, days }).toEqual({ table, days: [dayOf(-729)] });
    }
  });

  it("keeps an A/B test's starts and completions once their events are gone, on the assignments", async () => {
    // Runs after the retention above: the test's events were all older than 90 days.
    expect(await stack.ownerDb('tour_analytics_events').whereRaw("event_data->>'ab_test_id' = ?", [abTest!.id])).toEqual([]);
    expect(abBefore).toEqual({ a: { exposures: 1, starts: 1, completions: 0 }, b: { exposures: 1, starts: 1, completions: 1 } });
    expect(await countResults(stack.ownerDb, abTest!.id)).toEqual(abBefore);
    const kept = await stack.ownerDb('tour_ab_assignments').where({ ab_test_id: abTest!.id }).orderBy('variant').select('variant', 'started_at', 'completed_at');
    expect(kept).toEqual([
      { variant: 'a', started_at: noonOf(dayOf(-91)), completed_at: null },
      { variant: 'b', started_at: noonOf(dayOf(-95)), completed_at: noonOf(dayOf(-91)) },
    ]);
  });

  it('changes nothing when run again as of the same day', async () => {
    const before = await snapshot(org.orgId);
    const again = await stack.client.workflow.execute(analyticsRetention, {
      taskQueue: stack.config.temporal.taskQueue,
      workflowId: `analytics-retention-again-${crypto.randomUUID()}`,
      args: [{ asOf }],
    });
    expect(again).toMatchObject({ asOf, daysRolledUp: 0, eventsRolledUp: 0, aggregatesPruned: { anonymous: 0, pseudonymous: 0 } });
    expect(await snapshot(org.orgId)).toBe(before);
  });
});
