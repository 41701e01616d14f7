import crypto from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import request from 'supertest';
import { digest } from '../../activities/sync-records';
import { pseudonymise } from '../../db/pseudonyms';
import { tourWorkflowId } from '../../workflows/tour-lifecycle/messages';
import { webhookLaneId } from '../../workflows/webhook-messages';
import { addTour, createOrg, type OrgFixture } from '../support/fixtures';
import { insertTestIntegration } from '../support/hub-rows';
import { startStack, testSecretBox, tokenFor, type Stack } from '../support/stack';

let stack: Stack;

beforeAll(async () => {
  // A short run length, so the person's tour has an earlier run (continued as new) to find and delete too.
  stack = await startStack({ config: { TOUR_CONTINUE_AS_NEW_AFTER_UPDATES: '10' } });
});

afterAll(async () => {
  await stack.close();
});

const PERSON = { email: 'ava.erasure@example.com', name: 'Ava Erasure-Lindqvist', phone: '+15550104477' };

/** Every row of every table of ours that mentions any of `needles`, as "table: row". */
async function rowsNaming(needles: string[]): Promise<string[]> {
  const tables: string[] = (
    await stack.ownerDb.raw(`select tablename from pg_tables where schemaname = 'public' and tablename not like 'knex_%' order by 1`)
  ).rows.map((r: { tablename: string }) => r.tablename);
  const found: string[] = [];
  for (const table of tables) {
    const result = await stack.ownerDb.raw(`select t::text as row from "${table}" t where t::text ilike any (?::text[])`, [needles.map((n) => `%${n}%`)]);
    for (const r of result.rows) found.push(`${table}: ${r.row}`);
  }
  return found;
}

async function until<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function listRuns(query: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const wf of stack.client.workflow.list({ query })) runs.push(`${wf.workflowId}/${wf.runId}`);
  return runs;
}

describe("a person's tour data: export and erasure", () => {
  let org: OrgFixture;
  let secondTour: string;
  let admin: string;
  let member: string;
  let progressIds: string[];
  let person: string;

  beforeAll(async () => {
    org = await createOrg(stack.ownerDb, { steps: 4 });
    secondTour = await addTour(stack.ownerDb, org.orgId, { steps: 2 });
    person = org.memberId;
    await stack.ownerDb('organization_members')
      .where({ organization_id: org.orgId, user_id: person })
      .update({ email: PERSON.email, display_name: PERSON.name, phone: PERSON.phone, wedding_date: '2027-06-12', time_zone: 'Europe/Lisbon', attributes: JSON.stringify({ guests: 120 }) });
    admin = await tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });
    member = await tokenFor(stack, { orgId: org.orgId, userId: person });

    // Two tours through the real workflows: one mid-tour after twelve moves (two runs), one completed with feedback.
    const start = async (tourId: string) => {
      const res = await request(stack.app).post(`/api/tours/${tourId}/start`).set('Authorization', `Bearer ${member}`).send({ device_type: 'desktop' });
      expect(res.status).toBe(201);
      return res.body.progress_id as string;
    };
    const move = (id: string, body: object) => request(stack.app).put(`/api/tours/progress/${id}`).set('Authorization', `Bearer ${member}`).send(body).expect(200);
    const first = await start(org.tourId);
    for (let i = 0; i < 12; i++) await move(first, { action: i % 2 === 0 ? 'next_step' : 'previous_step' });
    const second = await start(secondTour);
    await move(second, { action: 'next_step' });
    await move(second, { action: 'next_step', user_feedback: { rating: 4, feedback: `Lovely, thanks from ${PERSON.name}`, was_helpful: true } });
    progressIds = [first, second];

    // A client event, an A/B assignment, pseudonymous aggregates kept after retention, and deliveries made
    // for them as the hub leaves them: one sent (with its attempt log and guard), one pending, one dead.
    await request(stack.app)
      .post('/api/tours/analytics/events')
      .set('Authorization', `Bearer ${member}`)
      .set('Referer', `https://app.example/couples/${person}`)
      .send({ id: crypto.randomUUID(), tour_id: org.tourId, progress_id: first, event_type: 'help_requested', event_data: { asked: PERSON.email } })
      .expect(200);
    const [test] = await stack.ownerDb('tour_ab_tests').insert({ organization_id: org.orgId, tour_id: org.tourId, test_name: 'Welcome copy', status: 'running' }).returning('id');
    // Assignments are stored under a hash of test and user: the person's, and another member's in the same test.
    const assignment = (userId: string, variant: 'a' | 'b') => ({
      organization_id: org.orgId, ab_test_id: test.id, tour_id: org.tourId, variant, subject_hash: stack.ownerDb.raw('tourhub_ab_subject(?::uuid, ?::uuid)', [test.id, userId]),
    });
    await stack.ownerDb('tour_ab_assignments').insert([assignment(person, 'b'), assignment(org.otherMemberId, 'a')]);
    await stack.ownerDb('tour_analytics_user_daily').insert({
      organization_id: org.orgId, tour_id: org.tourId, day: '2026-01-05', user_key: pseudonymise(stack.lifecycle.analytics.pseudonymKey, org.orgId, person),
      event_type: 'step_viewed', step_index: 0, step_key: 'step_0', event_count: 3,
    });
    const integrationId = await insertTestIntegration(stack.ownerDb, testSecretBox(), { orgId: org.orgId, provider: 'honeybook' });
    const workflowId = tourWorkflowId(org.orgId, person, org.tourId);
    for (const [i, status] of (['succeeded', 'pending', 'dead', 'suppressed'] as const).entries()) {
      const eventId = `${workflowId}:${i + 1}.0`;
      const key = `${eventId}:${integrationId}:0:logActivity`;
      const [d] = await stack.ownerDb('integration_deliveries')
        .insert({
          organization_id: org.orgId, integration_id: integrationId, event_id: eventId, event_type: 'tour_started', action: 'crm.logActivity',
          idempotency_key: key, workflow_id: workflowId, status, attempts: status === 'pending' || status === 'suppressed' ? 0 : 1,
          // A repeat held back quotes the event it repeats, and an event id names the person.
          suppressed_reason: status === 'suppressed' ? `tour_started already went to this integration at 2026-01-05T10:00:00.000Z (event ${workflowId}:1.0)` : null,
          payload: JSON.stringify({ method: 'crm.logActivity', fields: ['person'] }),
          sealed_action: JSON.stringify(testSecretBox().seal({ person: { email: PERSON.email } }, `integration_deliveries:${key}`)),
          last_error: status === 'dead' ? `400: no contact ${PERSON.email}` : null,
          provider_reference: status === 'succeeded' ? 'hb-activity-77' : null,
        })
        .returning('id');
      if (status === 'succeeded' || status === 'dead') {
        await stack.ownerDb('integration_logs').insert({
          organization_id: org.orgId, integration_id: integrationId, delivery_id: d.id, event_id: eventId, action: 'crm.logActivity',
          success: status === 'succeeded', error_message: status === 'dead' ? `400: no contact ${PERSON.email}` : null, user_id: person, progress_id: first,
        });
        await stack.ownerDb('delivery_guards').insert({ idempotency_key: key, organization_id: org.orgId, integration_id: integrationId, state: 'sent', reference: 'hb-activity-77' });
      }
    }

    // Two-way sync's copies of them, as a pass and a resolution leave them: the last agreement with
    // Táve (keyed by their email) and with the calendar (keyed by the event booked for their tour), a
    // manual conflict with both phones and its announcement, a pass's staged read, and sync's own calls
    // about them (one dead with an error naming them, one pending). Another couple's record stays.
    const tave = await insertTestIntegration(stack.ownerDb, testSecretBox(), { orgId: org.orgId, provider: 'tave' });
    const calendar = await insertTestIntegration(stack.ownerDb, testSecretBox(), { orgId: org.orgId, provider: 'google-calendar', category: 'calendar' });
    const eventKey = `${workflowId}:9.0:${calendar}:0:createEvent`;
    await stack.ownerDb('integration_deliveries').insert({
      organization_id: org.orgId, integration_id: calendar, event_id: `${workflowId}:9.0`, event_type: 'tour_completed', action: 'calendar.createEvent',
      idempotency_key: eventKey, workflow_id: workflowId, status: 'succeeded', attempts: 1, provider_reference: 'evt0erasure0consultation',
      payload: JSON.stringify({ method: 'calendar.createEvent', fields: ['summary'] }),
    });
    const email = PERSON.email.toLowerCase();
    await stack.ownerDb('sync_records').insert([
      { integration_id: tave, organization_id: org.orgId, record_key: email, remote_id: 'tave-contact-1', base: JSON.stringify({ first_name: 'Ava', last_name: 'Erasure-Lindqvist', phone: PERSON.phone }) },
      { integration_id: calendar, organization_id: org.orgId, record_key: 'evt0erasure0consultation', remote_id: 'evt0erasure0consultation', base: JSON.stringify({ summary: `Follow-up consultation with ${PERSON.name}` }) },
      { integration_id: tave, organization_id: org.orgId, record_key: 'someone.else@example.com', remote_id: 'tave-contact-2', base: JSON.stringify({ first_name: 'Someone' }) },
    ]);
    const [conflict] = await stack.ownerDb('sync_conflicts')
      .insert({ organization_id: org.orgId, integration_id: tave, record_key: email, field: 'phone', ours_value: JSON.stringify(PERSON.phone), theirs_value: JSON.stringify('+15550109999'), user_id: person, progress_id: first })
      .returning('id');
    await stack.ownerDb('outbound_events').insert({ organization_id: org.orgId, event_type: 'sync.conflict', subject_id: conflict.id, payload: JSON.stringify({ conflict_id: conflict.id, integration_id: tave, provider: 'tave', field: 'phone' }) });
    const [run] = await stack.ownerDb('sync_runs').insert({ organization_id: org.orgId, integration_id: tave, full_pass: true, reason: 'schedule', status: 'running' }).returning('id');
    await stack.ownerDb('sync_remote_records').insert({ run_id: run.id, record_key: email, remote_id: 'tave-contact-1', fields: JSON.stringify({ first_name: 'Ava', last_name: 'Erasure-Lindqvist' }) });
    // The dead one from an earlier pass, the pending one from this one: a push's event id is its pass and the record key's hash.
    for (const [i, status] of (['dead', 'pending'] as const).entries()) {
      const key = `sync:${tave}:${digest(`${email}-${i}`)}:upsertContact`;
      const eventId = `sync:${status === 'dead' ? crypto.randomUUID() : run.id}:${digest(email, 16)}`;
      const [d] = await stack.ownerDb('integration_deliveries')
        .insert({
          organization_id: org.orgId, integration_id: tave, event_id: eventId, event_type: 'sync', action: 'crm.upsertContact',
          idempotency_key: key, workflow_id: `sync:${tave}`, status, attempts: status === 'dead' ? 1 : 0,
          payload: JSON.stringify({ method: 'crm.upsertContact', fields: ['person'] }),
          sealed_action: JSON.stringify(testSecretBox().seal({ person: { email: PERSON.email } }, `integration_deliveries:${key}`)),
          last_error: status === 'dead' ? `422: ${PERSON.email} is taken` : null,
        })
        .returning('id');
      if (status === 'dead') {
        await stack.ownerDb('integration_logs').insert({
          organization_id: org.orgId, integration_id: tave, delivery_id: d.id, event_id: eventId, action: 'crm.upsertContact',
          success: false, error_message: `422: ${PERSON.email} is taken`,
        });
      }
    }
  });

  it('refuses an export to a member, even of their own data', async () => {
    const res = await request(stack.app).get(`/api/tours/users/${person}/data`).set('Authorization', `Bearer ${member}`);
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 403, code: 'admin_required' });
  });

  it('exports everything of theirs as JSON', async () => {
    const res = await request(stack.app).get(`/api/tours/users/${person}/data`).set('Authorization', `Bearer ${admin}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      organization_id: org.orgId,
      user_id: person,
      member: { role: 'member', email: PERSON.email, display_name: PERSON.name, phone: PERSON.phone, wedding_date: '2027-06-12', time_zone: 'Europe/Lisbon', attributes: { guests: 120 } },
      feedback: [{ tour_id: secondTour, progress_id: progressIds[1], rating: 4, was_helpful: true }],
      ab_assignments: [{ test_name: 'Welcome copy', variant: 'b', started_at: null, completed_at: null }],
      pseudonymised_daily_activity: [{ tour_id: org.tourId, day: '2026-01-05', event_type: 'step_viewed', event_count: 3 }],
    });
    expect(res.body.progress.map((p: { id: string }) => p.id).sort()).toEqual([...progressIds].sort());
    expect(res.body.deliveries.map((d: { status: string }) => d.status)).toEqual(['succeeded', 'pending', 'dead', 'suppressed', 'succeeded']);
    // Two-way sync's copies: by their email and by the event booked for their tour, never another couple's.
    expect(res.body.sync_records.map((r: { provider: string; record_key: string }) => `${r.provider} ${r.record_key}`).sort()).toEqual([
      'google-calendar evt0erasure0consultation',
      `tave ${PERSON.email.toLowerCase()}`,
    ]);
    expect(res.body.sync_conflicts).toEqual([expect.objectContaining({ provider: 'tave', field: 'phone', ours: PERSON.phone, theirs: '+15550109999', status: 'open', resolution: null })]);
    // Every transition the workflows recorded (14 moves and 2 starts), and the client's own event.
    expect(res.body.events.length).toBeGreaterThanOrEqual(17);
    expect(res.body.events.some((e: { event_type: string; page_url: string }) => e.event_type === 'help_requested' && e.page_url.includes(person))).toBe(true);
  });

  it('erases them, their workflows and their pending deliveries, and leaves nothing that names them', async () => {
    const other = await tokenFor(stack, { orgId: org.orgId, userId: org.otherMemberId });
    const kept = await request(stack.app).post(`/api/tours/${org.tourId}/start`).set('Authorization', `Bearer ${other}`).send({}).expect(201);
    // Their start is planned (a route skipped: they have no email) before the erasure, which must leave it.
    await until('the other member\'s start planned', () => stack.ownerDb('integration_deliveries').where({ workflow_id: tourWorkflowId(org.orgId, org.otherMemberId, org.tourId) }), (rows) => rows.length > 0);
    const runsBefore = await listRuns(`TourOrgId = '${org.orgId}' AND TourUserId = '${person}'`);
    expect(runsBefore.length).toBeGreaterThanOrEqual(3); // two runs of the first tour, one of the second

    // A webhook subscription has a lane per tour run, named after the run, so its id names the person:
    // one stands here as a run on a queue nobody polls (its filter matches no tour event, so the relay
    // starts no real lane beside it).
    const [sub] = await stack.ownerDb('webhook_subscriptions')
      .insert({ organization_id: org.orgId, url: 'https://hooks.example.com/erasure', event_types: ['integration.recovered'], sealed_secret: JSON.stringify({}) })
      .returning('id');
    const lane = webhookLaneId(sub.id, tourWorkflowId(org.orgId, person, org.tourId));
    // A tour event about them received from the organisation's backend, kept as it came.
    await stack.ownerDb('webhook_events').insert({
      organization_id: org.orgId, webhook_id: `evt-${crypto.randomUUID()}`, event_type: 'tour_completed', source: 'tour_system',
      payload: JSON.stringify({ event_type: 'tour_completed', user_id: person, tour_id: org.tourId, data: { feedback: `Thanks from ${PERSON.name}` } }),
    });
    await stack.client.workflow.start('erasureProbe', { taskQueue: 'nobody-polls-this', workflowId: lane });

    const res = await request(stack.app).delete(`/api/tours/users/${person}/data`).set('Authorization', `Bearer ${admin}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      user_id: person,
      progress: 2,
      pseudonymised_aggregates: 1,
      ab_assignments: 1,
      membership: 1,
      deliveries_cancelled: 4,
      deliveries_anonymised: 7,
      sync_records: 2,
      sync_conflicts: 1,
    });
    expect(res.body.events).toBeGreaterThanOrEqual(17);
    expect(res.body.workflows_deleted).toBeGreaterThanOrEqual(3);
    // The webhook outbox copied their tour events (with the feedback text); the other member's stay.
    expect(res.body.outbound_webhook_events).toBeGreaterThanOrEqual(3);
    expect(res.body.inbound_webhook_events).toBe(1);
    const othersEvents = await stack.ownerDb('outbound_events').where({ organization_id: org.orgId }).whereRaw("payload->>'user_id' = ?", [org.otherMemberId]).count<{ count: string }[]>('* as n');
    expect(Number((othersEvents[0] as unknown as { n: string }).n)).toBeGreaterThanOrEqual(1);

    expect(await rowsNaming([person, PERSON.email, PERSON.name, PERSON.phone])).toEqual([]);
    const othersWorkflow = tourWorkflowId(org.orgId, org.otherMemberId, org.tourId);
    const all = await stack.ownerDb('integration_deliveries').where({ organization_id: org.orgId }).orderBy('created_at').select('action', 'status', 'sealed_action', 'workflow_id');
    // The other member's start, planned for them: their routes skipped (they have no email), not erased.
    const others = all.filter((d) => d.workflow_id === othersWorkflow);
    expect(others.length).toBeGreaterThanOrEqual(1);
    expect(others.map((d) => d.status)).toEqual(others.map(() => 'skipped'));
    const deliveries = all.filter((d) => d.workflow_id !== othersWorkflow);
    expect(deliveries).toEqual([
      { action: 'crm.logActivity', status: 'succeeded', sealed_action: null, workflow_id: 'erased' },
      { action: 'crm.logActivity', status: 'cancelled', sealed_action: null, workflow_id: 'erased' },
      { action: 'crm.logActivity', status: 'cancelled', sealed_action: null, workflow_id: 'erased' },
      { action: 'crm.logActivity', status: 'suppressed', sealed_action: null, workflow_id: 'erased' },
      { action: 'calendar.createEvent', status: 'succeeded', sealed_action: null, workflow_id: 'erased' },
      { action: 'crm.upsertContact', status: 'cancelled', sealed_action: null, workflow_id: 'erased' },
      { action: 'crm.upsertContact', status: 'cancelled', sealed_action: null, workflow_id: 'erased' },
    ]);
    // Two-way sync keeps nothing of theirs, and everyone else's records stay.
    expect(await stack.ownerDb('sync_records').where({ organization_id: org.orgId }).pluck('record_key')).toEqual(['someone.else@example.com']);
    expect(await stack.ownerDb('sync_conflicts').where({ organization_id: org.orgId })).toEqual([]);
    expect(await stack.ownerDb('outbound_events').where({ organization_id: org.orgId, event_type: 'sync.conflict' })).toEqual([]);

    // Temporal deletes asynchronously (about 10 s on an idle dev server, longer on a busy one): each run's
    // history, then its visibility record.
    for (const run of runsBefore) {
      const [workflowId, runId] = run.split('/') as [string, string];
      await until(`the history of ${run}`, () => stack.client.workflow.getHandle(workflowId, runId).describe().then(() => 'present', (e: unknown) => (e instanceof WorkflowNotFoundError ? 'deleted' : String(e))), (v) => v === 'deleted', 90_000);
    }
    await until(`the webhook lane ${lane}`, () => stack.client.workflow.getHandle(lane).describe().then(() => 'present', (e: unknown) => (e instanceof WorkflowNotFoundError ? 'deleted' : String(e))), (v) => v === 'deleted', 90_000);
    for (const tourId of [org.tourId, secondTour]) {
      await expect(stack.client.workflow.getHandle(tourWorkflowId(org.orgId, person, tourId)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    }
    await until('runs listed for the person', () => listRuns(`TourOrgId = '${org.orgId}' AND TourUserId = '${person}'`), (runs) => runs.length === 0, 90_000);
    await until('runs listed by id', () => listRuns(`WorkflowId STARTS_WITH 'tour:${org.orgId}:${person}:'`), (runs) => runs.length === 0, 90_000);

    // Nobody else's data moved; the person is simply not there any more.
    expect(await stack.ownerDb('tour_ab_assignments').where({ organization_id: org.orgId }).pluck('variant')).toEqual(['a']);
    expect(await stack.ownerDb('user_tour_progress').where({ id: kept.body.progress_id }).first()).toMatchObject({ user_id: org.otherMemberId });
    const again = await request(stack.app).get(`/api/tours/users/${person}/data`).set('Authorization', `Bearer ${admin}`);
    expect({ status: again.status, code: again.body.error.code }).toEqual({ status: 404, code: 'not_found' });
    const eraseAgain = await request(stack.app).delete(`/api/tours/users/${person}/data`).set('Authorization', `Bearer ${admin}`);
    expect(eraseAgain.status).toBe(404);
  });

  it('lets no admin reach another organisation\'s people, and no member erase anyone', async () => {
    const outsider = await createOrg(stack.ownerDb);
    const otherAdmin = await tokenFor(stack, { orgId: outsider.orgId, userId: outsider.adminId, role: 'admin' });
    const exported = await request(stack.app).get(`/api/tours/users/${org.otherMemberId}/data`).set('Authorization', `Bearer ${otherAdmin}`);
    expect(exported.status).toBe(404);
    const erased = await request(stack.app).delete(`/api/tours/users/${org.otherMemberId}/data`).set('Authorization', `Bearer ${otherAdmin}`);
    expect(erased.status).toBe(404);
    const byMember = await request(stack.app).delete(`/api/tours/users/${org.otherMemberId}/data`).set('Authorization', `Bearer ${await tokenFor(stack, { orgId: org.orgId, userId: org.memberId })}`);
    expect(byMember.status).toBe(403);
    expect(await stack.ownerDb('user_tour_progress').where({ user_id: org.otherMemberId }).first()).toBeDefined();
    const bad = await request(stack.app).get('/api/tours/users/not-a-uuid/data').set('Authorization', `Bearer ${admin}`);
    expect(bad.status).toBe(400);
  });
});
