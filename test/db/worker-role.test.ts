import crypto from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createRetentionActivities } from '../../activities/retention';
import { workerDatabaseUrl } from '../../config';
import { createDb, type Db } from '../../db/knex';
import { insertIntegration } from '../../db/repositories/integrations';
import { insertOutboundEvents } from '../../db/repositories/outbound-events';
import { markApplied, upsertConflicts } from '../../db/repositories/conflicts';
import { claimProbe, recordRecovery } from '../../db/repositories/health';
import { loadHubContext, loadProgressFacts } from '../../db/repositories/organizations';
import { saveTransition } from '../../db/repositories/progress';
import { addRunProgress, compareBatch, completeRun, knownPeople, saveRecords, stageRecords, startRun, touchSyncTimestamps, updateMember } from '../../db/repositories/sync';
import { activeChannels, insertChannel, integrationsNeedingChannels, renewChannel, stopChannel } from '../../db/repositories/push-channels';
import {
  beginAttempt,
  lanesToWake,
  loadDeliveryToSend,
  markWebhookDeliveryFailed,
  nextInLane,
  recordWebhookAttempt,
  relayOutbox,
  unwake,
} from '../../db/repositories/webhook-outbox';
import { insertSubscription, openSubscriptionSecrets } from '../../db/repositories/webhook-subscriptions';
import { WORKER_GRANTS, WORKER_SEQUENCES } from '../../migrations/20261202090000_create_worker_role';
import { SYNC_WORKER_COLUMNS, SYNC_WORKER_TABLES } from '../../migrations/20261203090000_grant_worker_two_way_sync';
import { addTour, createOrg, type OrgFixture } from '../support/fixtures';
import { testConfig, testSecretBox } from '../support/stack';

/**
 * Tables the worker has no business with: what its activities never read or write. A table in neither
 * this list nor WORKER_GRANTS fails the last test, so whoever adds a table decides whether the worker
 * needs it (a grant and a policy in a migration) or not (this list).
 */
const NO_WORKER_ACCESS = [
  'knex_migrations',
  'knex_migrations_lock',
  'tour_ab_tests',
  'webhook_events',
  'oauth_states', // the API's OAuth consents
  'api_rate_limits', // the API's per-user request counts
  'webhook_signing_secrets', // inbound tour events' secrets: the API's receivers check them
];

let owner: Db;
let worker: Db;
let org: OrgFixture;

beforeAll(async () => {
  const config = testConfig();
  owner = createDb(config.database.url!, { poolMax: 2 });
  worker = createDb(workerDatabaseUrl(config), { poolMax: 2 });
  org = await createOrg(owner);
  await owner('organization_members').where({ organization_id: org.orgId, user_id: org.memberId }).update({ email: 'jane@example.com', display_name: 'Jane Doe', phone: '+15551234567' });
});

afterAll(async () => {
  await Promise.all([owner.destroy(), worker.destroy()]);
});

const refused = (p: Promise<unknown>) => expect(p).rejects.toThrow(/permission denied/);

describe('the tourhub_worker role', () => {
  it('connects as itself, not as the owner, and owns nothing', async () => {
    const { rows } = await worker.raw('select current_user as me, (select count(*)::int from pg_tables where tableowner = current_user) as owned');
    expect(rows[0]).toEqual({ me: 'tourhub_worker', owned: 0 });
  });

  it('does what the activities do, for any organisation, without a tenant', async () => {
    const context = await loadHubContext(worker, org.orgId, org.memberId);
    expect(context.person).toMatchObject({ email: 'jane@example.com', firstName: 'Jane', lastName: 'Doe', phone: '+15551234567' });
    const state = {
      progressId: crypto.randomUUID(), orgId: org.orgId, userId: org.memberId, tourId: org.tourId, status: 'in_progress' as const,
      currentStepIndex: 0, completedSteps: [], skippedSteps: [], totalSteps: 5, version: 1, startedAt: new Date().toISOString(),
      completedAt: null, lastInteractionAt: new Date().toISOString(), totalTimeMs: 0, feedback: {}, deviceType: null, viewportSize: null,
    };
    const events = [{ type: 'tour_started' as const, stepIndex: 0, stepKey: 'step_0', version: 1, index: 0 }];
    expect(await saveTransition(worker, { state, workflowId: 'wf', events })).toEqual({ written: true });
    // A retry writes nothing twice (the analytics insert ignores its duplicate).
    expect(await saveTransition(worker, { state, workflowId: 'wf', events })).toEqual({ written: false });
  });

  it('runs the retention job: reads, rolls up and deletes old events, prunes old aggregates', async () => {
    // A day no other suite writes: the job works on whole days of every organisation.
    const day = '2001-02-03';
    const at = new Date(`${day}T12:00:00Z`);
    const event = (type: string, step: number, extra: Record<string, unknown> = {}) => ({
      user_id: org.memberId, organization_id: org.orgId, tour_id: org.tourId, event_type: type, step_index: step, step_key: `step_${step}`,
      timestamp: at, created_at: at, page_url: 'https://app.example/couples/jane', ...extra,
    });
    await owner('tour_analytics_events').insert([event('step_viewed', 0), event('step_completed', 0, { interaction_time_ms: 900 })]);
    await owner('tour_analytics_daily').insert({ organization_id: org.orgId, tour_id: org.tourId, day: '2000-01-01', event_type: 'step_viewed', step_index: 0, step_key: 'step_0', event_count: 3 });
    const retention = createRetentionActivities({ db: worker, pseudonymKey: new Uint8Array(32).fill(5), retentionDays: 90, aggregateRetentionDays: 730 });
    expect(await retention.expiredEventDays({ before: '2001-02-04', limit: 31 })).toContain(day);
    expect(await new MockActivityEnvironment().run(retention.rollUpEventDay, { day })).toEqual({ events: 2, rows: 2 });
    expect(await owner('tour_analytics_user_daily').where({ organization_id: org.orgId, day }).sum({ n: 'event_count' }).first()).toEqual({ n: 2 });
    // Run again, the day is gone and nothing is counted twice.
    expect(await new MockActivityEnvironment().run(retention.rollUpEventDay, { day })).toEqual({ events: 0, rows: 0 });
    // The anonymous counts include the two the insert's trigger added for the day.
    const before = '2001-12-31';
    const old = async (table: string) => Number((await owner(table).where('day', '<', before).count({ n: '*' }).first())!.n);
    const expected = { anonymous: await old('tour_analytics_daily'), pseudonymous: await old('tour_analytics_user_daily') };
    expect(expected.anonymous).toBeGreaterThanOrEqual(3);
    expect(await retention.pruneAggregates({ before })).toEqual(expected);
    expect({ anonymous: await old('tour_analytics_daily'), pseudonymous: await old('tour_analytics_user_daily') }).toEqual({ anonymous: 0, pseudonymous: 0 });
  });

  it('writes the outbox, relays it, and sends, records and pauses outbound webhooks', async () => {
    const box = testSecretBox();
    const subscription = await insertSubscription(owner, box, { id: crypto.randomUUID(), orgId: org.orgId, url: 'https://hooks.example.com/in', description: null, eventTypes: ['tour.*'], secret: 'whsec_worker' });
    const runId = `tour:${org.orgId}:${org.memberId}:${org.tourId}`;
    const planned = { organizationId: org.orgId, eventType: 'tour.completed', subjectId: crypto.randomUUID(), orderingKey: runId, dedupeKey: `tour-event:${runId}:worker-role`, payload: { feedback: { feedback: 'Loved it' } } };
    // Planning retried writes one row.
    await insertOutboundEvents(worker, [planned]);
    await insertOutboundEvents(worker, [planned]);
    expect(await owner('outbound_events').where({ dedupe_key: planned.dedupeKey }).count({ n: '*' }).first()).toEqual({ n: 1 });

    expect(await relayOutbox(worker, 500)).toBeGreaterThanOrEqual(1);
    const lanes = await lanesToWake(worker, 60_000, 200);
    expect(lanes).toContainEqual({ subscriptionId: subscription.id, orderingKey: runId });
    await unwake(worker, lanes);
    const next = await nextInLane(worker, { subscriptionId: subscription.id, orderingKey: runId });
    if (next.kind !== 'delivery') throw new Error(`expected a delivery, got ${next.kind}`);
    const found = await loadDeliveryToSend(worker, next.deliveryId);
    expect(found?.event.payload).toEqual(planned.payload);
    expect(openSubscriptionSecrets(box, found!.subscription, Date.now())).toEqual(['whsec_worker']);

    const attempt = await beginAttempt(worker, next.deliveryId);
    const outcome = { deliveryId: next.deliveryId, organizationId: org.orgId, subscriptionId: subscription.id, attempt, success: false, statusCode: 500, error: 'HTTP 500', excerpt: null, durationMs: 12 };
    // Failing past the policy pauses the subscription and tells the organisation (an outbox row).
    expect(await recordWebhookAttempt(worker, outcome, { afterMs: 0, minFailures: 1 })).toEqual({ paused: true });
    expect(await owner('outbound_events').where({ organization_id: org.orgId, event_type: 'webhook.subscription_paused', subject_id: subscription.id }).count({ n: '*' }).first()).toEqual({ n: 1 });
    await markWebhookDeliveryFailed(worker, next.deliveryId, 'ran out of time');
    expect(await owner('webhook_deliveries').where({ id: next.deliveryId }).first()).toMatchObject({ status: 'failed', attempts: 1, last_error: 'ran out of time' });
  });

  it('makes, renews and stops calendar channels, and finds the integrations that need one', async () => {
    const integrationId = crypto.randomUUID();
    await insertIntegration(owner, testSecretBox(), {
      id: integrationId, organizationId: org.orgId, type: 'calendar', provider: 'google-calendar', settings: { provider: {}, field_mapping: {}, enabled_events: [] }, credentials: { accessToken: 'a' }, isActive: true,
    });
    expect(await integrationsNeedingChannels(worker, ['google-calendar'], new Date())).toContainEqual({ id: integrationId, provider: 'google-calendar' });
    const channel = await insertChannel(worker, {
      organizationId: org.orgId, integrationId, provider: 'google-calendar', channelId: crypto.randomUUID(), resourceId: null, resource: 'primary', tokenHash: 'a'.repeat(64), expiresAt: new Date(Date.now() + 60_000),
    });
    await renewChannel(worker, channel.id, new Date(Date.now() + 120_000));
    expect(await activeChannels(worker, integrationId)).toHaveLength(1);
    await stopChannel(worker, channel.id);
    expect(await activeChannels(worker, integrationId)).toHaveLength(0);
  });

  it('runs two-way sync and the circuit breaker: a pass from its row to its cursor, conflicts, a planner\'s edit, probes', async () => {
    const integrationId = crypto.randomUUID();
    await insertIntegration(owner, testSecretBox(), {
      id: integrationId, organizationId: org.orgId, type: 'crm', provider: 'tave', settings: { provider: {}, field_mapping: {}, enabled_events: [] }, credentials: { apiKey: 'k' }, isActive: true,
    });
    const progressId = crypto.randomUUID();
    const tourId = await addTour(owner, org.orgId, { steps: 5 });
    await owner('user_tour_progress').insert({ id: progressId, user_id: org.memberId, organization_id: org.orgId, tour_id: tourId, status: 'completed', total_steps: 5, workflow_id: `tour:${org.orgId}:${org.memberId}:${tourId}` });
    const runId = await startRun(worker, { organizationId: org.orgId, integrationId, full: true, reason: 'schedule', requested: [] });
    expect(await knownPeople(worker, org.orgId, ['jane@example.com', 'nobody@example.com'])).toEqual(new Set(['jane@example.com']));
    await stageRecords(worker, runId, [{ key: 'jane@example.com', remoteId: 'c1', fields: { first_name: 'Janet' }, updatedAt: '2026-11-20T10:00:00.000Z' }]);
    const [row] = await compareBatch(worker, { kind: 'people', orgId: org.orgId, integrationId, runId, full: true, after: null, limit: 10 });
    expect(row).toMatchObject({ record_key: 'jane@example.com', staged: true, theirs: { first_name: 'Janet' } });
    await saveRecords(worker, [{ organizationId: org.orgId, integrationId, key: 'jane@example.com', remoteId: 'c1', base: { first_name: 'Janet' }, local: {} }]);
    const [conflict] = await upsertConflicts(worker, [{ organizationId: org.orgId, integrationId, key: 'jane@example.com', remoteId: 'c1', field: 'phone', ours: '+15551234567', theirs: '+15559999999', base: undefined, oursAt: null, theirsAt: null, userId: org.memberId, progressId }]);
    await markApplied(worker, conflict!.id, null);
    await touchSyncTimestamps(worker, [{ organizationId: org.orgId, progressId, integrationId, conflict: true }]);
    await updateMember(worker, org.orgId, 'jane@example.com', { display_name: 'Janet Doe' });
    await addRunProgress(worker, runId, { phase: 'compare', compared: 1, accepted: 1, conflicts: 1 });
    await completeRun(worker, { runId, organizationId: org.orgId, integrationId, full: true, cursor: 'cursor-1' });
    expect(await owner('sync_states').where({ integration_id: integrationId }).first('cursor')).toEqual({ cursor: 'cursor-1' });
    expect(await owner('organization_members').where({ organization_id: org.orgId, user_id: org.memberId }).first('display_name')).toEqual({ display_name: 'Janet Doe' });
    expect(await loadProgressFacts(worker, progressId)).toMatchObject({ progress: { totalSteps: 5 } });
    // The breaker: paused, probed once, closed by a success.
    await owner('organization_integrations').where({ id: integrationId }).update({ health: 'degraded', breaker_state: 'open', breaker_next_probe_at: new Date(Date.now() - 1000) });
    expect(await claimProbe(worker, integrationId, 60_000)).toBe(true);
    expect(await claimProbe(worker, integrationId, 60_000)).toBe(false);
    expect(await recordRecovery(worker, { id: integrationId, organization_id: org.orgId, provider: 'tave' }, { reason: 'probe' })).toBe(true);
    // Its reach stops there: no conflict deleted, no run removed, no member's role or email changed.
    await refused(worker('sync_conflicts').where({ id: conflict!.id }).delete());
    await refused(worker('sync_runs').where({ id: runId }).delete());
    await refused(worker('organization_members').where({ organization_id: org.orgId }).update({ email: 'other@example.com' }));
  });

  it('cannot create, alter or drop tables', async () => {
    await refused(worker.raw('create table worker_was_here (id int)'));
    await expect(worker.raw('drop table organizations')).rejects.toThrow(/must be owner/);
    await expect(worker.raw('alter table organization_integrations add column x int')).rejects.toThrow(/must be owner/);
  });

  it('cannot read what it has no use for, nor change what it only reads', async () => {
    await refused(worker('knex_migrations').select('name'));
    await refused(worker('webhook_events').select('id'));
    await refused(worker('tour_ab_tests').select('id'));
    await refused(worker('organization_members').select('role')); // only the contact columns
    await refused(worker('organizations').select('slug'));
    await refused(worker('organization_integrations').where({ organization_id: org.orgId }).delete());
    await refused(worker('organization_integrations').where({ organization_id: org.orgId }).update({ settings: '{}' }));
    await refused(worker('tour_definitions').where({ id: org.tourId }).update({ name: 'renamed' }));
    await refused(worker('organization_members').insert({ organization_id: org.orgId, user_id: crypto.randomUUID(), role: 'admin' }));
    await refused(worker('tour_analytics_events').select('id'));
    await refused(worker('tour_ab_assignments').select('id'));
    await refused(worker('integration_logs').where({ organization_id: org.orgId }).delete());
    await refused(worker('user_tour_progress').where({ organization_id: org.orgId }).delete());
    // Analytics: only what retention rolls up (event_data for its A/B test id), never the page or the device; no aggregate written by hand.
    await refused(worker('tour_analytics_events').select('page_url'));
    await refused(worker('tour_analytics_events').select('user_agent'));
    // A/B assignments: retention only copies outcomes onto them; who is in which variant is the API's.
    await refused(worker('tour_ab_assignments').update({ variant: 'b' }));
    await refused(worker('tour_ab_assignments').delete());
    await refused(worker('tour_analytics_daily').select('event_count'));
    await refused(worker('tour_analytics_daily').insert({ organization_id: org.orgId, tour_id: org.tourId, day: '2001-01-01', event_type: 'step_viewed', step_index: 0, step_key: 'step_0', event_count: 1 }));
    // Webhooks: no inbound events or signing secrets; subscriptions' address, filter and secret are the admins'.
    await refused(worker('webhook_signing_secrets').select('id'));
    await refused(worker('webhook_subscriptions').where({ organization_id: org.orgId }).update({ url: 'https://elsewhere.example.com/' }));
    await refused(worker('webhook_subscriptions').where({ organization_id: org.orgId }).update({ sealed_secret: '{}' }));
    await refused(worker('webhook_subscriptions').where({ organization_id: org.orgId }).delete());
    await refused(worker('outbound_events').where({ organization_id: org.orgId }).delete());
    await refused(worker('outbound_events').where({ organization_id: org.orgId }).update({ payload: '{}' }));
    await refused(worker('webhook_delivery_attempts').select('response_excerpt'));
    await refused(worker('push_channels').where({ organization_id: org.orgId }).delete());
  });

  it('has exactly the grants its migration lists, and every table is decided either way', async () => {
    const { rows: tables } = await owner.raw(`select tablename from pg_tables where schemaname = 'public' order by tablename`);
    const undecided = tables.map((t: { tablename: string }) => t.tablename).filter((t: string) => !(t in WORKER_GRANTS) && !(t in SYNC_WORKER_TABLES) && !NO_WORKER_ACCESS.includes(t));
    expect({ undecided }).toEqual({ undecided: [] });

    // From the catalogs' ACLs (information_schema's column view takes seconds): table grants, then column grants.
    const { rows } = await owner.raw(
      `select c.relname as table_name, a.privilege_type
         from pg_class c join pg_namespace n on n.oid = c.relnamespace, aclexplode(c.relacl) a
        where n.nspname = 'public' and a.grantee = 'tourhub_worker'::regrole
       union all
       select c.relname, a.privilege_type || '(' || att.attname || ')'
         from pg_attribute att join pg_class c on c.oid = att.attrelid join pg_namespace n on n.oid = c.relnamespace, aclexplode(att.attacl) a
        where n.nspname = 'public' and att.attacl is not null and a.grantee = 'tourhub_worker'::regrole`,
    );
    const granted = new Map<string, Set<string>>();
    for (const r of rows as { table_name: string; privilege_type: string }[]) {
      if (!granted.has(r.table_name)) granted.set(r.table_name, new Set());
      granted.get(r.table_name)!.add(r.privilege_type);
    }
    const expected = new Map<string, Set<string>>();
    // The role's first migration, then what two-way sync's adds (whole tables, and columns of the first's).
    for (const [table, spec] of [...Object.entries(WORKER_GRANTS), ...Object.entries(SYNC_WORKER_TABLES), ...Object.entries(SYNC_WORKER_COLUMNS)]) {
      const set = expected.get(table) ?? new Set<string>();
      for (const m of spec.matchAll(/(SELECT|INSERT|UPDATE|DELETE)(?:\s*\(([^)]*)\))?/g)) {
        if (m[2]) for (const column of m[2].split(',')) set.add(`${m[1]}(${column.trim().replace(/^"(.*)"$/, '$1')})`);
        else set.add(m[1]!);
      }
      expected.set(table, set);
    }
    for (const sequence of WORKER_SEQUENCES) expected.set(sequence, new Set(['USAGE']));
    const sorted = (m: Map<string, Set<string>>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)).map(([t, s]) => [t, [...s].sort()]));
    expect(sorted(granted)).toEqual(sorted(expected));
    for (const t of NO_WORKER_ACCESS) expect(granted.has(t)).toBe(false);
  });
});
