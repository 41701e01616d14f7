import crypto from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { createDb, type Db } from '../../db/knex';
import { actionAad } from '../../db/repositories/deliveries';
import { insertIntegration } from '../../db/repositories/integrations';
import { TEST_ENV_KEYS } from '../support/constants';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { testConfig, testSecretBox } from '../support/stack';

const box = testSecretBox();
let db: Db;
let activities: ReturnType<typeof createActivities>;

beforeAll(() => {
  db = createDb(process.env[TEST_ENV_KEYS.pgUrl]!, { poolMax: 4 });
  activities = createActivities({ db, box, hub: testConfig({ HUB_RESUME_URL: 'https://app.example/tours/{tourId}/resume' }).hub });
});

afterAll(async () => {
  await db.destroy();
});

async function integrate(org: OrgFixture, type: string, provider: string, settings: Record<string, unknown> = {}, isActive = true): Promise<string> {
  const id = crypto.randomUUID();
  await insertIntegration(db, box, {
    id,
    organizationId: org.orgId,
    type,
    provider,
    settings: { provider: {}, field_mapping: {}, enabled_events: [], ...settings },
    credentials: { apiKey: 'k' },
    isActive,
  });
  return id;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function run<F extends (...args: any[]) => Promise<unknown>>(fn: F, ...args: Parameters<F>): ReturnType<F> {
  return new MockActivityEnvironment().run(fn, ...args) as ReturnType<F>;
}

describe('planning deliveries', () => {
  it('plans each active integration\'s routes for the member, in the organisation\'s time zone, as sealed pending rows', async () => {
    const org = await createOrg(db);
    await db('organizations').where({ id: org.orgId }).update({ time_zone: 'America/New_York' });
    await db('organization_members').where({ organization_id: org.orgId, user_id: org.memberId }).update({ email: 'ava@example.com', display_name: 'Ava Reed' });
    const crm = await integrate(org, 'crm', 'tave', { routes: { follow_up_task_days: 10 } });
    const email = await integrate(org, 'email', 'mailchimp');
    await integrate(org, 'calendar', 'google-calendar', {}, false); // disabled: nothing planned
    const workflowId = `tour:${org.orgId}:${org.memberId}:${org.tourId}`;
    const input = {
      workflowId,
      orgId: org.orgId,
      userId: org.memberId,
      tourId: org.tourId,
      tourName: 'Welcome',
      progressId: crypto.randomUUID(),
      events: [
        { eventId: `${workflowId}:7.0`, type: 'tour_completed' as const, occurredAt: '2026-11-23T03:00:00.000Z' },
        { eventId: `${workflowId}:9.0`, type: 're_engagement_due' as const, occurredAt: '2026-11-24T03:00:00.000Z' },
      ],
    };
    const planned = await run(activities.planDeliveries, input);
    expect(planned.map((p) => `${p.eventType}:${p.provider}:${p.action.method}`)).toEqual([
      'tour_completed:tave:logActivity',
      'tour_completed:tave:createTask',
      'tour_completed:mailchimp:upsertSubscriber',
      'tour_completed:mailchimp:addTags',
      'tour_completed:mailchimp:triggerSequence',
      're_engagement_due:mailchimp:upsertSubscriber',
      're_engagement_due:mailchimp:addTags',
      're_engagement_due:mailchimp:triggerSequence',
    ]);
    // The route override and the organisation's zone (03:00 UTC is the 22nd in New York).
    expect(planned[1]!.action.input).toMatchObject({ dueDate: '2026-12-02', person: { email: 'ava@example.com', firstName: 'Ava', lastName: 'Reed' } });
    expect(planned[5]!.action.input).toMatchObject({ mergeFields: { resumeUrl: `https://app.example/tours/${org.tourId}/resume` } });
    expect(planned[3]!.action.input).toEqual({ email: 'ava@example.com', tags: ['wedsync-onboarded', 'tour-completed'] });
    expect(planned[0]!.idempotencyKey).toBe(`${workflowId}:7.0:${crm}:0:logActivity`);

    const rows = await db('integration_deliveries').whereIn('integration_id', [crm, email]).orderBy('created_at');
    expect(rows).toHaveLength(8);
    expect(rows.every((r) => r.status === 'pending' && r.attempts === 0)).toBe(true);
    // The row holds only field names in the clear; the call itself is sealed to its key.
    const row = rows.find((r) => r.idempotency_key === planned[1]!.idempotencyKey)!;
    expect(JSON.stringify(row.payload)).not.toContain('ava@example.com');
    expect(JSON.stringify(row.sealed_action)).not.toContain('ava@example.com');
    expect(box.open(row.sealed_action, actionAad(row.idempotency_key))).toEqual(planned[1]!.action);
    expect(() => box.open(row.sealed_action, actionAad(planned[0]!.idempotencyKey))).toThrow();

    // Planning again (a retried local activity) changes nothing.
    await run(activities.planDeliveries, input);
    const counted = await db('integration_deliveries').whereIn('integration_id', [crm, email]).count({ n: '*' });
    expect(Number(counted[0]?.n)).toBe(8);

    // A replay opens the same call under the same key.
    const replay = await run(activities.loadReplay, { deliveryId: row.id });
    expect(replay.delivery).toMatchObject({ idempotencyKey: row.idempotency_key, provider: 'tave', action: planned[1]!.action });
    await db('integration_deliveries').where({ id: row.id }).update({ status: 'succeeded' });
    await expect(run(activities.loadReplay, { deliveryId: row.id })).rejects.toMatchObject({ type: 'delivery_not_replayable', nonRetryable: true });
    await expect(run(activities.loadReplay, { deliveryId: crypto.randomUUID() })).rejects.toMatchObject({ type: 'delivery_not_found' });
  });

  it('sends a couple\'s tour_started and tour_completed to an integration once per tour and window, even when two plans race', async () => {
    const org = await createOrg(db);
    await db('organization_members').where({ organization_id: org.orgId, user_id: org.memberId }).update({ email: 'ava@example.com' });
    const crm = await integrate(org, 'crm', 'tave');
    const workflowId = `tour:${org.orgId}:${org.memberId}:${org.tourId}`;
    const plan = (events: { version: number; type: 'tour_started' | 'tour_completed' | 'tour_abandoned' }[]) =>
      run(activities.planDeliveries, {
        workflowId, orgId: org.orgId, userId: org.memberId, tourId: org.tourId, tourName: 'Welcome', progressId: crypto.randomUUID(),
        events: events.map((e) => ({ eventId: `${workflowId}:${e.version}.0`, type: e.type, occurredAt: '2026-11-23T03:00:00.000Z' })),
      });
    // Two restarts planned at once (two workers, or a retried local activity beside a new run): one goes out.
    const [a, b] = await Promise.all([plan([{ version: 1, type: 'tour_started' }]), plan([{ version: 3, type: 'tour_started' }])]);
    expect(a.length + b.length).toBe(1);
    // One batch with the whole loop in it: the first completion goes out, the repeats in it do not; an
    // abandonment is not a repeatable event and always goes.
    const batch = await plan([
      { version: 4, type: 'tour_completed' }, { version: 5, type: 'tour_started' }, { version: 6, type: 'tour_completed' }, { version: 7, type: 'tour_abandoned' },
    ]);
    expect(batch.map((p) => `${p.eventId.split(':').pop()}:${p.eventType}:${p.action.method}`)).toEqual([
      '4.0:tour_completed:logActivity', '4.0:tour_completed:createTask', '7.0:tour_abandoned:createTask',
    ]);
    const rows = await db('integration_deliveries').where({ integration_id: crm }).orderBy('event_id');
    expect(rows.map((r) => `${r.event_id.split(':').pop()}:${r.status}`)).toEqual([
      expect.stringMatching(/^1\.0:(pending|suppressed)$/), expect.stringMatching(/^3\.0:(pending|suppressed)$/),
      '4.0:pending', '4.0:pending', '5.0:suppressed', '6.0:suppressed', '6.0:suppressed', '7.0:pending',
    ]);
    expect(rows.filter((r) => r.status === 'suppressed').every((r) => r.suppressed_reason.includes('repeats within 24h are not sent'))).toBe(true);
    // Planning the same batch again (a retried local activity) sends the same ones and suppresses nothing new.
    expect((await plan([{ version: 6, type: 'tour_completed' }, { version: 4, type: 'tour_completed' }])).map((p) => p.eventId.split(':').pop())).toEqual(['4.0', '4.0']);
    // Past the window the next loop goes out again.
    await db('integration_deliveries').where({ integration_id: crm }).update({ created_at: db.raw(`now() - interval '25 hours'`) });
    expect(await plan([{ version: 8, type: 'tour_started' }])).toHaveLength(1);
  });

  it('sends each check-in of the series once per window: a restart loop\'s first check-in again is a repeat, the next number is not', async () => {
    const org = await createOrg(db);
    await db('organization_members').where({ organization_id: org.orgId, user_id: org.memberId }).update({ email: 'ava@example.com' });
    const calendar = await integrate(org, 'calendar', 'google-calendar');
    const workflowId = `tour:${org.orgId}:${org.memberId}:${org.tourId}`;
    const checkIn = (version: number, number: number) =>
      run(activities.planDeliveries, {
        workflowId, orgId: org.orgId, userId: org.memberId, tourId: org.tourId, tourName: 'Welcome', progressId: crypto.randomUUID(),
        events: [{ eventId: `${workflowId}:${version}.0`, type: 'check_in_due' as const, occurredAt: '2026-11-23T03:00:00.000Z', checkIn: { number, of: 3, at: '2026-11-24T10:00:00.000Z' } }],
      });
    expect(await checkIn(1, 1)).toHaveLength(1);
    // The loop completed again: the series was booked again and its first check-in fell due at once.
    expect(await checkIn(3, 1)).toHaveLength(0);
    // The series goes on: the second check-in is not a repeat of the first.
    expect(await checkIn(4, 2)).toHaveLength(1);
    const rows = await db('integration_deliveries').where({ integration_id: calendar }).orderBy('event_id');
    expect(rows.map((r) => [r.event_id.split(':').pop(), r.status, r.payload.check_in])).toEqual([['1.0', 'pending', 1], ['3.0', 'suppressed', 1], ['4.0', 'pending', 2]]);
  });

  it('sends nothing for a member without an email, recording the skipped route and why (skipped again on a restart, never suppressed); plans nothing without integrations', async () => {
    const org = await createOrg(db);
    const crm = await integrate(org, 'crm', 'tave');
    const input = {
      workflowId: 'w', orgId: org.orgId, userId: org.memberId, tourId: org.tourId, tourName: 'Welcome', progressId: crypto.randomUUID(),
      events: [{ eventId: 'w:1.0', type: 'tour_started' as const, occurredAt: '2026-11-23T03:00:00.000Z' }],
    };
    expect(await run(activities.planDeliveries, input)).toEqual([]);
    const rows = await db('integration_deliveries').where({ integration_id: crm });
    expect(rows).toMatchObject([{ status: 'skipped', action: 'crm.logActivity', event_type: 'tour_started', idempotency_key: `w:1.0:${crm}:0:logActivity`, sealed_action: null }]);
    expect(rows[0].skip_reason).toMatch(/no email address/);
    // Planning again records nothing twice.
    await run(activities.planDeliveries, input);
    expect(await db('integration_deliveries').where({ integration_id: crm })).toHaveLength(1);
    // A restart within HUB_SUPPRESS_REPEATS_WITHIN is skipped again, not suppressed: nothing went out the first time.
    const restart = (version: number) => ({ ...input, events: [{ ...input.events[0]!, eventId: `w:${version}.0` }] });
    expect(await run(activities.planDeliveries, restart(3))).toEqual([]);
    expect((await db('integration_deliveries').where({ integration_id: crm }).orderBy('event_id')).map((r) => [r.event_id, r.status, r.suppressed_reason])).toEqual([
      ['w:1.0', 'skipped', null],
      ['w:3.0', 'skipped', null],
    ]);
    // Once the member has an email, the next start goes out: the skipped ones were never an effect.
    await db('organization_members').where({ organization_id: org.orgId, user_id: org.memberId }).update({ email: 'ava@example.com' });
    expect((await run(activities.planDeliveries, restart(5))).map((p) => p.eventId)).toEqual(['w:5.0']);
    expect(await db('integration_deliveries').where({ integration_id: crm, event_id: 'w:5.0' }).pluck('status')).toEqual(['pending']);
    const bare = await createOrg(db);
    await db('organization_members').where({ organization_id: bare.orgId, user_id: bare.memberId }).update({ email: 'x@example.com' });
    expect(await run(activities.planDeliveries, { ...input, orgId: bare.orgId, userId: bare.memberId })).toEqual([]);
  });

  it('gives each tour its own inactivity period, or the configured default', async () => {
    const org = await createOrg(db);
    const key = { orgId: org.orgId, userId: org.memberId, tourId: org.tourId };
    expect((await run(activities.loadTour, key)).hub?.abandonAfterMs).toBe(7 * 86_400_000);
    await db('tour_definitions').where({ id: org.tourId }).update({ inactivity_timeout_minutes: 90 });
    expect((await run(activities.loadTour, key)).hub?.abandonAfterMs).toBe(90 * 60_000);
  });
});
