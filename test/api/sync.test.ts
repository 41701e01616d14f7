import crypto from 'node:crypto';
import { Client } from '@temporalio/client';
import request from 'supertest';
import { actionAad } from '../../db/repositories/deliveries';
import { insertIntegration } from '../../db/repositories/integrations';
import type { PlannedAction } from '../../domain/hub';
import { PayloadCodecError, tourDataConverter } from '../../services/payload-codec';
import { createSyncControl } from '../../services/sync';
import { syncProgressQuery, syncScheduleId, syncWorkflowId } from '../../workflows/integration-sync/messages';
import { createOrg, type OrgFixture } from '../support/fixtures';
import type { FakeProviders } from '../support/fake-providers';
import { useProviderStack } from '../support/provider-stack';
import { testSecretBox, tokenFor, type Stack } from '../support/stack';

/**
 * Two-way sync end to end on the test stack: the API, the tour queue's worker (sync workflows and their
 * activities on Postgres) and the provider queues' workers (reads and pushes) against loopback fakes of
 * Táve, Mailchimp and Google Calendar.
 */

const box = testSecretBox();
const setup = useProviderStack({
  providers: ['tave', 'mailchimp', 'google-calendar'],
  box,
  config: {
    SYNC_PAGE_SIZE: '10',
    SYNC_COMPARE_BATCH: '10',
    HUB_RETRY_INITIAL_INTERVAL: '100ms',
    HUB_RETRY_MAX_INTERVAL: '500ms',
    GOOGLE_OAUTH_CLIENT_ID: 'fake-client-id',
    GOOGLE_OAUTH_CLIENT_SECRET: 'fake-client-secret',
  },
});
let stack: Stack;
let fakes: FakeProviders;
const eventually = <T>(fn: () => Promise<T | undefined | false>, what: string) => setup.eventually(fn, what);

beforeAll(() => {
  ({ stack, fakes } = setup);
});

const api = () => request(stack.app);
const admin = (org: OrgFixture) => tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });

interface Couple {
  userId: string;
  email: string;
  progressId: string;
}

/** A member with an email and a tour of the organisation in `status`. */
async function couple(org: OrgFixture, email: string, displayName: string, phone: string | null, status: 'completed' | 'in_progress'): Promise<Couple> {
  const userId = crypto.randomUUID();
  const progressId = crypto.randomUUID();
  await stack.ownerDb('organization_members').insert({ organization_id: org.orgId, user_id: userId, role: 'member', email, display_name: displayName, phone });
  await stack.ownerDb('user_tour_progress').insert({
    id: progressId,
    user_id: userId,
    organization_id: org.orgId,
    tour_id: org.tourId,
    status,
    total_steps: 5,
    version: 3,
    workflow_id: `tour:${org.orgId}:${userId}:${org.tourId}`,
    ...(status === 'completed' ? { completed_at: new Date('2026-11-23T03:00:00.000Z') } : {}),
  });
  return { userId, email, progressId };
}

async function integrate(org: OrgFixture, provider: 'tave' | 'mailchimp' | 'google-calendar', fieldMapping: Record<string, string> = {}): Promise<string> {
  const fake = fakes.get(provider).integration;
  const id = crypto.randomUUID();
  await insertIntegration(stack.ownerDb, box, {
    id,
    organizationId: org.orgId,
    type: fake.category,
    provider,
    settings: { provider: fake.settings, field_mapping: fieldMapping, enabled_events: [] },
    credentials: fake.credentials,
    isActive: true,
  });
  return id;
}

/** A Táve contact as the planner typed it in VSCO Workspace, last changed a week ago. */
function taveContact(email: string, fields: Record<string, unknown>): string {
  const id = `01h${crypto.randomBytes(12).toString('hex').slice(0, 23)}`;
  fakes.get('tave').store('contacts').set(id, { id, kind: 'person', email, modified: '2026-11-20T10:00:00.000Z', created: '2026-11-01T10:00:00.000Z', ...fields });
  return id;
}

async function resync(org: OrgFixture, token: string) {
  const started = await api().post('/api/integrations/resync').set('Authorization', `Bearer ${token}`);
  expect(started.status).toBe(202);
  const id: string = started.body.resync.id;
  const seen = new Set<string>();
  const done = await eventually(async () => {
    const res = await api().get(`/api/integrations/resync/${id}`).set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    seen.add(res.body.resync.status);
    return ['completed', 'failed'].includes(res.body.resync.status) && res.body.resync;
  }, `resync ${id} of ${org.slug}`);
  return { started: started.body.resync, done, seen };
}

const taveWrites = (contactId: string) => fakes.get('tave').calls().filter((c) => c.kind === 'write' && c.path.endsWith(`/address-book/${contactId}`));

describe('two-way sync: a full resync of an organisation', () => {
  let org: OrgFixture;
  let token: string;
  let tave: string;
  let ava: Couple;
  let avaContact: string;

  beforeAll(async () => {
    org = await createOrg(stack.ownerDb);
    token = await admin(org);
    ava = await couple(org, 'ava@sync.test', 'Ava Reed', '+14155550002', 'completed');
    await couple(org, 'ben@sync.test', 'Ben Stone', null, 'in_progress');
    await couple(org, 'cleo@sync.test', 'Cleo Hart', '+14155550100', 'completed');
    tave = await integrate(org, 'tave', { tour_name: 'Tour name' });
    await integrate(org, 'mailchimp');
    // Ava's phone differs on both sides (never agreed): a person decides. Ben is in Táve as we have him; Cleo is missing.
    avaContact = taveContact('ava@sync.test', { firstName: 'Ava', lastName: 'Reed', cellPhone: { e164: '+14155550003' } });
    taveContact('ben@sync.test', { firstName: 'Ben', lastName: 'Stone' });
  });

  it('reaches every readable integration, shows its progress, pushes what each provider lacks and stores the manual conflict with both values', async () => {
    fakes.get('tave').setLatency(150); // long enough to see the pass running
    const { started, done, seen } = await resync(org, token);
    fakes.get('tave').setLatency(0);
    expect(started.integrations.map((i: { provider: string }) => i.provider).sort()).toEqual(['mailchimp', 'tave']);
    expect(seen.has('running') || seen.has('queued')).toBe(true);
    expect(done.status).toBe('completed');
    const taveRun = done.integrations.find((i: { provider: string }) => i.provider === 'tave');
    expect(taveRun).toMatchObject({ status: 'completed', phase: 'done', compared: 3, conflicts: 1, error: null });
    expect(taveRun.pulled).toBe(2); // the two contacts that name couples of this organisation
    expect(taveRun.pushed).toBeGreaterThanOrEqual(3);

    // Cleo was missing: created, with the tour's custom field. Ava and Ben get the custom field; Ava's phone waits.
    const contacts = [...fakes.get('tave').store('contacts').values()];
    const cleo = contacts.find((c) => c.email === 'cleo@sync.test')!;
    expect(cleo).toMatchObject({ firstName: 'Cleo', lastName: 'Hart', cellPhone: { e164: '+14155550100' } });
    expect(contacts.find((c) => c.id === avaContact)).toMatchObject({ cellPhone: { e164: '+14155550003' } });
    // Mailchimp lacked all three; the two who completed the tour carry seed 001's tags.
    const members = [...fakes.get('mailchimp').store('members').values()].filter((m) => String(m.email_address).endsWith('@sync.test'));
    expect(members.map((m) => [m.email_address, [...(m.tags as string[])].sort()]).sort()).toEqual([
      ['ava@sync.test', ['tour-completed', 'wedsync-onboarded']],
      ['ben@sync.test', []],
      ['cleo@sync.test', ['tour-completed', 'wedsync-onboarded']],
    ]);

    const listed = await api().get('/api/integrations/conflicts?status=open').set('Authorization', `Bearer ${token}`);
    expect(listed.status).toBe(200);
    expect(listed.body.conflicts).toEqual([
      expect.objectContaining({
        integration_id: tave,
        provider: 'tave',
        record_key: 'ava@sync.test',
        field: 'phone',
        ours: expect.objectContaining({ value: '+14155550002' }),
        theirs: { value: '+14155550003', changed_at: '2026-11-20T10:00:00.000Z' },
        base_value: null,
        user_id: ava.userId,
        progress_id: ava.progressId,
        status: 'open',
        resolution: null,
      }),
    ]);
    // Seed 001's sync_timestamps: the couple whose record waits on a person says so.
    const stamps = await stack.ownerDb('sync_timestamps').where({ integration_id: tave }).select('progress_id', 'sync_status');
    expect(stamps.find((s) => s.progress_id === ava.progressId)?.sync_status).toBe('conflict');
    expect(stamps.filter((s) => s.sync_status === 'completed')).toHaveLength(2);
    // The organisation hears of it (ids only).
    const notified = await stack.ownerDb('outbound_events').where({ organization_id: org.orgId, event_type: 'sync.conflict' }).select('payload');
    expect(notified).toEqual([{ payload: { conflict_id: listed.body.conflicts[0].id, integration_id: tave, provider: 'tave', field: 'phone' } }]);

    // The workflow's own view: the pass is done, and its details say so.
    const handle = stack.client.workflow.getHandle(syncWorkflowId(tave));
    expect(await handle.query(syncProgressQuery)).toMatchObject({ integrationId: tave, current: null, passes: 1 });
    const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(meta.currentDetails).toContain('**Passes done by this run:** 1');
  });

  it('a manual conflict resolved through the API reaches the provider exactly once', async () => {
    const [conflict] = (await api().get('/api/integrations/conflicts?status=open').set('Authorization', `Bearer ${token}`)).body.conflicts;
    const resolved = await api().post(`/api/integrations/conflicts/${conflict.id}/resolve`).set('Authorization', `Bearer ${token}`).send({ choice: 'ours' });
    expect(resolved.status).toBe(202);
    expect(resolved.body).toMatchObject({ sync_requested: true, conflict: { id: conflict.id, status: 'resolved', resolution: { choice: 'ours', value: '+14155550002', applied_at: null } } });
    // A second decision changes nothing.
    const again = await api().post(`/api/integrations/conflicts/${conflict.id}/resolve`).set('Authorization', `Bearer ${token}`).send({ choice: 'theirs' });
    expect({ status: again.status, code: again.body.error.code }).toEqual({ status: 409, code: 'conflict_already_resolved' });

    const applied = await eventually(async () => {
      const res = await api().get('/api/integrations/conflicts?status=resolved').set('Authorization', `Bearer ${token}`);
      return res.body.conflicts.find((c: { id: string; resolution: { applied_at: string | null } }) => c.id === conflict.id && c.resolution.applied_at);
    }, 'the resolution to be applied');
    expect(applied.resolution).toMatchObject({ choice: 'ours', value: '+14155550002' });
    const carrying = () => taveWrites(avaContact).filter((c) => JSON.stringify(c.body).includes('+14155550002'));
    expect(carrying()).toHaveLength(1);
    expect(fakes.get('tave').store('contacts').get(avaContact)).toMatchObject({ cellPhone: { e164: '+14155550002' } });
    const delivery = await stack.ownerDb('integration_deliveries').where({ event_id: `conflict:${conflict.id}` }).select('idempotency_key', 'status');
    expect(delivery).toEqual([{ idempotency_key: `conflict:${conflict.id}:ours:upsertContact`, status: 'succeeded' }]);

    // Another full pass: both sides agree now; nothing more is sent for Ava, and no conflict comes back.
    const writesBefore = taveWrites(avaContact).length;
    const { done } = await resync(org, token);
    expect(done.status).toBe('completed');
    expect(done.integrations.find((i: { provider: string }) => i.provider === 'tave')).toMatchObject({ conflicts: 0 });
    expect(taveWrites(avaContact)).toHaveLength(writesBefore);
    expect(carrying()).toHaveLength(1);
    const open = await api().get('/api/integrations/conflicts?status=open').set('Authorization', `Bearer ${token}`);
    expect(open.body.conflicts).toEqual([]);
  });

  it('takes the planner\'s later edit of a name into our member row (latest-wins), and pushes the couple\'s own later edit', async () => {
    const contacts = fakes.get('tave').store('contacts');
    const ben = [...contacts.values()].find((c) => c.email === 'ben@sync.test')!;
    ben.firstName = 'Benjamin';
    fakes.get('tave').touch('contacts', String(ben.id));
    await resync(org, token);
    const member = await stack.ownerDb('organization_members').where({ organization_id: org.orgId, email: 'ben@sync.test' }).first('display_name');
    expect(member.display_name).toBe('Benjamin Stone');

    await stack.ownerDb('organization_members').where({ organization_id: org.orgId, email: 'cleo@sync.test' }).update({ display_name: 'Cleo Hartley' });
    await resync(org, token);
    const cleo = [...contacts.values()].find((c) => c.email === 'cleo@sync.test')!;
    expect(cleo.lastName).toBe('Hartley');
  });

  it('shows the integration\'s attempts newest first, paged, with field names and never values', async () => {
    const first = await api().get(`/api/integrations/${tave}/logs?limit=2`).set('Authorization', `Bearer ${token}`);
    expect(first.status).toBe(200);
    expect(first.body.logs).toHaveLength(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await api().get(`/api/integrations/${tave}/logs?limit=2&cursor=${first.body.next_cursor}`).set('Authorization', `Bearer ${token}`);
    expect(second.status).toBe(200);
    const ids = [...first.body.logs, ...second.body.logs].map((l: { id: string }) => l.id);
    expect(new Set(ids).size).toBe(ids.length);
    const times = [...first.body.logs, ...second.body.logs].map((l: { processed_at: string }) => Date.parse(l.processed_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(first.body.logs[0]).toMatchObject({ success: true, attempt: 1, request_summary: { method: expect.stringMatching(/^crm\./), fields: expect.any(Array) } });
    expect(JSON.stringify([first.body, second.body])).not.toContain('@sync.test');
    const failed = await api().get(`/api/integrations/${tave}/logs?success=false`).set('Authorization', `Bearer ${token}`);
    expect(failed.body.logs).toEqual([]);
  });
});

describe('two-way sync: what a provider can only keep shortened', () => {
  it('a name longer than Táve keeps is sent once and stays whole in our record: the shortened copy is no planner\'s edit', async () => {
    const org = await createOrg(stack.ownerDb);
    const token = await admin(org);
    // Táve keeps 48 characters of a last name (PERSON_LIMITS); this one has 60, and a phone typed with spaces.
    const last = 'Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaf';
    await couple(org, 'long.name@sync.test', `Ana ${last}`, '+1 415 555 0104', 'completed');
    await integrate(org, 'tave');
    let { done } = await resync(org, token);
    expect(done.integrations[0]).toMatchObject({ provider: 'tave', status: 'completed', conflicts: 0 });
    const contact = [...fakes.get('tave').store('contacts').values()].find((c) => c.email === 'long.name@sync.test')!;
    expect(contact).toMatchObject({ firstName: 'Ana', lastName: last.slice(0, 48), cellPhone: { e164: '+14155550104' } });
    const written = fakes.get('tave').calls().filter((c) => c.kind === 'write' && JSON.stringify(c.body).includes('long.name@sync.test')).length;

    // The next passes read Táve's shortened copy back: nothing is accepted, pushed or disputed.
    fakes.get('tave').touch('contacts', String(contact.id));
    ({ done } = await resync(org, token));
    expect(done.integrations[0]).toMatchObject({ status: 'completed', accepted: 0, pushed: 0, conflicts: 0 });
    const member = await stack.ownerDb('organization_members').where({ organization_id: org.orgId, email: 'long.name@sync.test' }).first('display_name', 'phone');
    expect(member).toEqual({ display_name: `Ana ${last}`, phone: '+1 415 555 0104' });
    expect(fakes.get('tave').calls().filter((c) => c.kind === 'write' && JSON.stringify(c.body).includes('long.name@sync.test'))).toHaveLength(written);
  });
});

describe('two-way sync: a planner moving the consultation in their calendar', () => {
  it('wins over our default time: the move is taken, nothing is sent back', async () => {
    const org = await createOrg(stack.ownerDb);
    const token = await admin(org);
    const ava = await couple(org, 'ava.cal@sync.test', 'Ava Reed', null, 'completed');
    const calendar = await integrate(org, 'google-calendar');
    // The consultation the hub booked on completion: its delivery row, its call sealed, the event at Google.
    const action: PlannedAction = {
      category: 'calendar',
      method: 'createEvent',
      input: { summary: 'Follow-up consultation with Ava Reed', description: 'x', start: '2026-11-26T14:00:00', end: '2026-11-26T15:00:00', timeZone: 'America/New_York', attendees: [{ email: 'ava.cal@sync.test' }] },
    };
    const eventId = `e${crypto.randomBytes(10).toString('hex')}`;
    const fake = fakes.get('google-calendar');
    fake.store('events').set(eventId, { id: eventId, status: 'confirmed', summary: action.input.summary, start: { dateTime: '2026-11-26T14:00:00-05:00' }, end: { dateTime: '2026-11-26T15:00:00-05:00' }, updated: '2026-11-23T03:00:00.000Z' });
    fake.touch('events', eventId);
    const key = `tour:${org.orgId}:${ava.userId}:${org.tourId}:3.0:${calendar}:0:createEvent`;
    await stack.ownerDb('integration_deliveries').insert({
      organization_id: org.orgId,
      integration_id: calendar,
      event_id: `tour:${org.orgId}:${ava.userId}:${org.tourId}:3.0`,
      event_type: 'tour_completed',
      action: 'calendar.createEvent',
      idempotency_key: key,
      workflow_id: `tour:${org.orgId}:${ava.userId}:${org.tourId}`,
      status: 'succeeded',
      provider_reference: eventId,
      sealed_action: JSON.stringify(box.seal(action, actionAad(key))),
    });
    let { done } = await resync(org, token);
    expect(done.integrations[0]).toMatchObject({ provider: 'google-calendar', status: 'completed', compared: 1, pushed: 0, conflicts: 0 });

    // The planner moves it to the next morning in Google Calendar.
    const event = fake.store('events').get(eventId)!;
    Object.assign(event, { start: { dateTime: '2026-11-27T10:00:00-05:00' }, end: { dateTime: '2026-11-27T11:00:00-05:00' } });
    fake.touch('events', eventId);
    fake.clearCalls();
    ({ done } = await resync(org, token));
    expect(done.integrations[0]).toMatchObject({ status: 'completed', accepted: 1, pushed: 0, conflicts: 0 });
    expect(fake.calls().filter((c) => c.kind === 'write')).toEqual([]);
    const record = await stack.ownerDb('sync_records').where({ integration_id: calendar, record_key: eventId }).first('base', 'local');
    expect(record.local).toMatchObject({ start: '2026-11-27T15:00:00Z', end: '2026-11-27T16:00:00Z' });
    // And it stays moved: a later pass sends nothing back either.
    ({ done } = await resync(org, token));
    expect(fake.calls().filter((c) => c.kind === 'write')).toEqual([]);
  });
});

describe('two-way sync: schedules', () => {
  it('an integration two-way sync reads gets its Temporal Schedule when created through the API, whose tick asks for a pass; disabling removes it', async () => {
    const org = await createOrg(stack.ownerDb);
    const token = await admin(org);
    const fake = fakes.get('tave').integration;
    const created = await api().post('/api/integrations').set('Authorization', `Bearer ${token}`).send({ provider: 'tave', credentials: fake.credentials, settings: fake.settings });
    expect(created.status).toBe(201);
    const id: string = created.body.integration.id;
    const schedule = stack.client.schedule.getHandle(syncScheduleId(id));
    const described = await schedule.describe();
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'syncTick', taskQueue: stack.config.temporal.taskQueue });
    expect(described.spec.intervals?.[0]?.every).toBe(stack.config.sync.intervalMs);

    await schedule.trigger();
    const run = await eventually(async () => stack.ownerDb('sync_runs').where({ integration_id: id, status: 'completed' }).first(), 'a scheduled pass');
    expect(run).toMatchObject({ reason: 'schedule', full_pass: true });

    const disabled = await api().post(`/api/integrations/${id}/disable`).set('Authorization', `Bearer ${token}`);
    expect(disabled.status).toBe(200);
    await expect(schedule.describe()).rejects.toThrow();
  });

  it('a schedule sealed under a key no longer in the keyring is made again at the next worker start, not left unreadable', async () => {
    const id = crypto.randomUUID();
    const retired = new Client({
      connection: stack.client.connection,
      namespace: stack.config.temporal.namespace,
      dataConverter: tourDataConverter(testSecretBox(`retired:${Buffer.alloc(32, 7).toString('base64')}`, 'retired')),
    });
    await createSyncControl(retired, stack.config).ensureSchedule(id);
    await expect(stack.client.schedule.getHandle(syncScheduleId(id)).describe()).rejects.toThrow(PayloadCodecError);
    await createSyncControl(stack.client, stack.config).ensureSchedule(id);
    const described = await stack.client.schedule.getHandle(syncScheduleId(id)).describe();
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'syncTick', args: [{ integrationId: id }] });
    await createSyncControl(stack.client, stack.config).removeSchedule(id);
  });
});

describe('two-way sync routes refuse bad input, other organisations and members, changing nothing', () => {
  let org: OrgFixture;
  let other: OrgFixture;
  let conflictId: string;

  beforeAll(async () => {
    org = await createOrg(stack.ownerDb);
    other = await createOrg(stack.ownerDb);
    const integrationId = await integrate(org, 'tave');
    const [row] = await stack.ownerDb('sync_conflicts')
      .insert({ organization_id: org.orgId, integration_id: integrationId, record_key: 'x@sync.test', field: 'phone', ours_value: JSON.stringify('+1'), theirs_value: JSON.stringify('+2') })
      .returning('id');
    conflictId = row.id;
  });

  const expectError = (res: request.Response, status: number, code: string) => {
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
    expect(res.body.error.details).toBeDefined();
  };
  const stillOpen = async () => expect((await stack.ownerDb('sync_conflicts').where({ id: conflictId }).first()).status).toBe('open');

  it.each([
    ['no choice', {}],
    ['an unknown choice', { choice: 'mine' }],
    ['a value without choice "value"', { choice: 'ours', value: 'x' }],
    ['choice "value" without a value', { choice: 'value' }],
    ['a value that is not a plain value', { choice: 'value', value: { a: 1 } }],
    ['an unknown field', { choice: 'ours', also: true }],
  ])('resolve with %s is 400 validation_error', async (_what, body) => {
    expectError(await api().post(`/api/integrations/conflicts/${conflictId}/resolve`).set('Authorization', `Bearer ${await admin(org)}`).send(body), 400, 'validation_error');
    await stillOpen();
  });

  it.each([
    ['GET', '/api/integrations/conflicts?limit=0'],
    ['GET', '/api/integrations/conflicts?limit=201'],
    ['GET', '/api/integrations/conflicts?status=closed'],
    ['GET', '/api/integrations/conflicts?integration_id=nope'],
    ['GET', '/api/integrations/conflicts?cursor=garbage'],
    ['GET', '/api/integrations/conflicts?order=asc'],
    ['POST', '/api/integrations/conflicts/not-a-uuid/resolve'],
    ['GET', '/api/integrations/resync/not-a-uuid'],
    ['GET', '/api/integrations/not-a-uuid/logs'],
    ['GET', `/api/integrations/${crypto.randomUUID()}/logs?success=maybe`],
    ['GET', `/api/integrations/${crypto.randomUUID()}/logs?cursor=garbage`],
  ])('%s %s is 400 validation_error', async (method, url) => {
    const token = await admin(org);
    const res = method === 'GET' ? await api().get(url).set('Authorization', `Bearer ${token}`) : await api().post(url).set('Authorization', `Bearer ${token}`).send({ choice: 'ours' });
    expectError(res, 400, 'validation_error');
    await stillOpen();
  });

  it('a body that is not JSON is refused before anything is read', async () => {
    const res = await api().post(`/api/integrations/conflicts/${conflictId}/resolve`).set('Authorization', `Bearer ${await admin(org)}`).set('content-type', 'application/json').send('{"choice":');
    expectError(res, 400, 'malformed_json');
    await stillOpen();
  });

  it('another organisation\'s conflict, resync and integration are not found, and nothing of theirs changes', async () => {
    const token = await admin(other);
    expectError(await api().post(`/api/integrations/conflicts/${conflictId}/resolve`).set('Authorization', `Bearer ${token}`).send({ choice: 'ours' }), 404, 'not_found');
    await stillOpen();
    const listed = await api().get('/api/integrations/conflicts').set('Authorization', `Bearer ${token}`);
    expect(listed.body.conflicts).toEqual([]);
    const integrationId = (await stack.ownerDb('sync_conflicts').where({ id: conflictId }).first()).integration_id;
    expectError(await api().get(`/api/integrations/${integrationId}/logs`).set('Authorization', `Bearer ${token}`), 404, 'not_found');
    const resyncId = crypto.randomUUID();
    await stack.ownerDb('sync_runs').insert({ organization_id: org.orgId, integration_id: integrationId, resync_id: resyncId, full_pass: true, reason: 'resync', status: 'queued' });
    expectError(await api().get(`/api/integrations/resync/${resyncId}`).set('Authorization', `Bearer ${token}`), 404, 'not_found');
    expectError(await api().get(`/api/integrations/resync/${crypto.randomUUID()}`).set('Authorization', `Bearer ${await admin(org)}`), 404, 'not_found');
  });

  it('an organisation with nothing two-way sync reads gets 422, and nothing is queued', async () => {
    expectError(await api().post('/api/integrations/resync').set('Authorization', `Bearer ${await admin(other)}`), 422, 'no_readable_integrations');
    expect(await stack.ownerDb('sync_runs').where({ organization_id: other.orgId })).toEqual([]);
  });

  it('members are refused every sync route', async () => {
    const member = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId, role: 'member' });
    for (const [method, url] of [
      ['get', '/api/integrations/conflicts'],
      ['post', `/api/integrations/conflicts/${conflictId}/resolve`],
      ['post', '/api/integrations/resync'],
      ['get', `/api/integrations/resync/${crypto.randomUUID()}`],
      ['get', `/api/integrations/${crypto.randomUUID()}/logs`],
    ] as const) {
      const res = method === 'get' ? await api().get(url).set('Authorization', `Bearer ${member}`) : await api().post(url).set('Authorization', `Bearer ${member}`).send({ choice: 'ours' });
      expectError(res, 403, 'admin_required');
    }
    await stillOpen();
  });
});
