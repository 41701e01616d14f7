import crypto from 'node:crypto';
import { as, expectEnvelope, publishedTour, stepsOf } from '../support/authoring';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack.close();
});

describe('authoring tours', () => {
  it('creates a draft, publishes it as version 1, and members see it only once it is live', async () => {
    const org = await createOrg(stack.ownerDb);
    const admin = as(stack, org);
    const member = as(stack, org, org.memberId);
    const created = await admin.post('/api/tours/config', {
      tour: { tour_key: 'vendor-intro', name: 'Meet your vendors', tour_type: 'feature_introduction', estimated_duration_minutes: 4 },
      steps: stepsOf(['inbox', 'booking'], (k) => ({ wedding_tip: `Tip for ${k}` })),
      targeting: { audience: ['couples'], wedding_phase: 'planning' },
    });
    expect(created.status).toBe(201);
    const tourId = created.body.config.tour_id;
    expect(created.body.config).toMatchObject({ status: 'draft', version: null, published_version: null, has_unpublished_changes: true, targeting: { wedding_phase: 'planning' } });
    expect((await member.get(`/api/tours/${tourId}`)).status).toBe(404);
    expect((await member.get('/api/tours')).body.tours.map((t: { id: string }) => t.id)).not.toContain(tourId);

    const published = await admin.post(`/api/tours/config/${tourId}/publish`);
    expect(published.status).toBe(200);
    expect(published.body.config).toMatchObject({ status: 'published', published_version: 1, has_unpublished_changes: false });
    const seen = await member.get(`/api/tours/${tourId}`);
    expect(seen.status).toBe(200);
    expect(seen.body.tour).toMatchObject({ name: 'Meet your vendors', version: '1', steps: [{ step_key: 'inbox', wedding_tip: 'Tip for inbox' }, { step_key: 'booking' }] });

    const listed = await admin.get('/api/tours/config');
    expect(listed.body.tours.find((t: { tour_id: string }) => t.tour_id === tourId)).toMatchObject({ status: 'published', published_version: 1, step_count: 2 });
  });

  it('keeps a running tour on the version it started with, texts included, while new starts get the new version', async () => {
    const org = await createOrg(stack.ownerDb);
    const admin = as(stack, org);
    const tourId = await publishedTour(stack, org, { steps: stepsOf(['welcome', 'guests', 'budget']) });
    const ava = as(stack, org, org.memberId);
    const started = await ava.post(`/api/tours/${tourId}/start`, {});
    expect(started.status).toBe(201);
    const progressId = started.body.progress_id;
    expect(started.body).toMatchObject({ progress: { tour_version: 1 }, current_step: { step_key: 'welcome', title: 'Title of welcome' } });

    // Version 2 renames every step, drops "guests" and adds "venue".
    const changed = await admin.put(`/api/tours/config/${tourId}`, {
      tour: { name: 'The new welcome' },
      steps: stepsOf(['welcome', 'venue', 'budget']).map((s) => ({ ...s, title: `New ${s.title}` })),
      publish: true,
    });
    expect(changed.status).toBe(200);
    expect(changed.body.config).toMatchObject({ published_version: 2, version: null, has_unpublished_changes: false });

    const detail = await ava.get(`/api/tours/${tourId}`);
    expect(detail.body.tour).toMatchObject({ version: '1', name: expect.stringMatching(/^Tour /) });
    expect(detail.body.tour.steps.map((s: { title: string }) => s.title)).toEqual(['Title of welcome', 'Title of guests', 'Title of budget']);
    const moved = await ava.put(`/api/tours/progress/${progressId}`, { action: 'next_step' });
    expect(moved.body).toMatchObject({ next_step: { step_key: 'guests', title: 'Title of guests' }, progress: { tour_version: 1, total_steps: 3 } });
    const read = await ava.get(`/api/tours/progress/${progressId}`);
    expect(read.body).toMatchObject({ current_step: { title: 'Title of guests' }, progress: { tour_version: 1 } });
    const prefetch = await ava.get(`/api/tours/${tourId}/steps?from=1&limit=5`);
    expect(prefetch.body).toMatchObject({ tour_version: 1, from: 1, total_steps: 3, next_from: null });
    expect(prefetch.body.steps.map((s: { step_key: string }) => s.step_key)).toEqual(['guests', 'budget']);

    // Someone else starting now gets version 2.
    const ben = as(stack, org, org.otherMemberId);
    const theirs = await ben.post(`/api/tours/${tourId}/start`, {});
    expect(theirs.body).toMatchObject({ progress: { tour_version: 2 }, current_step: { title: 'New Title of welcome' } });
    expect((await ben.get(`/api/tours/${tourId}`)).body.tour).toMatchObject({ version: '2', name: 'The new welcome' });

    // Ava finishes version 1; a restart takes version 2.
    await ava.put(`/api/tours/progress/${progressId}`, { action: 'next_step' }).then((r) => expect(r.status).toBe(200));
    const done = await ava.put(`/api/tours/progress/${progressId}`, { action: 'next_step' });
    expect(done.body).toMatchObject({ tour_completed: true, progress: { tour_version: 1 } });
    const again = await ava.post(`/api/tours/${tourId}/start`, { restart: true });
    expect(again.body).toMatchObject({ progress: { tour_version: 2, current_step_index: 0 }, current_step: { title: 'New Title of welcome' } });
    const row = await stack.ownerDb('user_tour_progress').where({ id: progressId }).first();
    expect(row).toMatchObject({ tour_version: 2, step_keys: ['welcome', 'venue', 'budget'] });

    // Old versions stay readable.
    const v1 = await admin.get(`/api/tours/config/${tourId}?version=1`);
    expect(v1.body.config).toMatchObject({ version: 1, published_version: 2 });
    expect(v1.body.config.steps.map((s: { step_key: string }) => s.step_key)).toEqual(['welcome', 'guests', 'budget']);
    const versions = await admin.get(`/api/tours/config/${tourId}/versions`);
    expect(versions.body.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expectEnvelope(await admin.get(`/api/tours/config/${tourId}?version=9`), 404, 'version_not_found');
  });

  it('keeps step ids while their keys stay, and says when the working copy has unpublished changes', async () => {
    const org = await createOrg(stack.ownerDb);
    const admin = as(stack, org);
    const tourId = await publishedTour(stack, org, { steps: stepsOf(['a', 'b']) });
    const before = (await admin.get(`/api/tours/config/${tourId}`)).body.config.steps;
    const edited = await admin.put(`/api/tours/config/${tourId}`, { steps: stepsOf(['b', 'a', 'c']) });
    expect(edited.body.config).toMatchObject({ has_unpublished_changes: true, published_version: 1 });
    const after = edited.body.config.steps;
    expect(after.find((s: { step_key: string }) => s.step_key === 'a').id).toBe(before[0].id);
    expect(after.map((s: { step_order: number }) => s.step_order)).toEqual([0, 1, 2]);
    // Members still see version 1 until it is published.
    expect((await as(stack, org, org.memberId).get(`/api/tours/${tourId}`)).body.tour.steps.map((s: { step_key: string }) => s.step_key)).toEqual(['a', 'b']);
  });

  it('unpublishes and deletes: a taken-down tour is not listed or startable, and a live one cannot be deleted', async () => {
    const org = await createOrg(stack.ownerDb);
    const admin = as(stack, org);
    const member = as(stack, org, org.memberId);
    const tourId = await publishedTour(stack, org);
    expectEnvelope(await admin.delete(`/api/tours/config/${tourId}`), 409, 'tour_published');
    expect((await admin.post(`/api/tours/config/${tourId}/unpublish`)).body.config).toMatchObject({ status: 'unpublished', published_version: 1 });
    expectEnvelope(await admin.post(`/api/tours/config/${tourId}/unpublish`), 409, 'tour_not_published');
    expectEnvelope(await member.post(`/api/tours/${tourId}/start`, {}), 404, 'not_found');
    expect((await member.get('/api/tours')).body.tours.map((t: { id: string }) => t.id)).not.toContain(tourId);
    expect((await admin.delete(`/api/tours/config/${tourId}`)).status).toBe(204);
    expectEnvelope(await admin.get(`/api/tours/config/${tourId}`), 404, 'not_found');
    expect(await stack.ownerDb('tour_versions').where({ tour_id: tourId })).toEqual([]);
  });

  it('attaches an A/B test through the configuration (seed 000\'s ab_test)', async () => {
    const org = await createOrg(stack.ownerDb);
    const admin = as(stack, org);
    const tourId = await publishedTour(stack, org);
    const res = await admin.put(`/api/tours/config/${tourId}`, {
      ab_test: { test_name: 'Friendlier welcome', variant_a: {}, variant_b: { steps: { one: { title: 'Hello!' } } }, traffic_split: 0.5, start: true },
    });
    expect(res.status).toBe(200);
    expect(res.body.config.ab_test).toMatchObject({ test_name: 'Friendlier welcome', status: 'running', traffic_split: 0.5 });
  });

  describe('bad input gets the envelope and changes nothing', () => {
    let org: OrgFixture;
    let tourId: string;
    let otherTour: string;
    const snapshot = async () => {
      const config = (await as(stack, org).get(`/api/tours/config/${tourId}`)).body.config;
      const tests = await stack.ownerDb('tour_ab_tests').where({ tour_id: tourId }).select('id', 'status', 'traffic_split');
      return { config, tests, versions: await stack.ownerDb('tour_versions').where({ tour_id: tourId }).count({ n: '*' }) };
    };

    beforeAll(async () => {
      org = await createOrg(stack.ownerDb);
      tourId = await publishedTour(stack, org, { steps: stepsOf(['one', 'two']) });
      otherTour = await publishedTour(stack, org, { targeting: { prerequisites: [tourId] } });
      await as(stack, org).put(`/api/tours/config/${tourId}`, { ab_test: { variant_a: {}, variant_b: {}, traffic_split: 0.5, start: true } }).then((r) => expect(r.status).toBe(200));
    });

    const cases: [string, () => Promise<import('supertest').Response>, number, string][] = [
      ['a member\'s config PUT', () => as(stack, org, org.memberId).put(`/api/tours/config/${tourId}`, { tour: { name: 'Hijacked' } }), 403, 'admin_required'],
      ['a member reading the config', () => as(stack, org, org.memberId).get(`/api/tours/config/${tourId}`), 403, 'admin_required'],
      ['duplicate step keys', () => as(stack, org).put(`/api/tours/config/${tourId}`, { tour: { name: 'Changed' }, steps: stepsOf(['one', 'two', 'one']) }), 422, 'duplicate_step_keys'],
      ['an unknown condition operator', () => as(stack, org).put(`/api/tours/config/${tourId}`, { steps: stepsOf(['one'], () => ({ show_conditions: { field: 'guest_count', op: 'approximately', value: 100 } })) }), 422, 'unknown_condition_operator'],
      ['a malformed rule', () => as(stack, org).put(`/api/tours/config/${tourId}`, { targeting: { show_conditions: { and: [] } } }), 422, 'invalid_condition'],
      ['a traffic split outside 0 to 1', () => as(stack, org).put(`/api/tours/config/${tourId}`, { ab_test: { variant_a: {}, variant_b: {}, traffic_split: 1.5 } }), 400, 'validation_error'],
      ['a second running test', () => as(stack, org).put(`/api/tours/config/${tourId}`, { tour: { name: 'Changed' }, ab_test: { variant_a: {}, variant_b: {}, traffic_split: 0.3, start: true } }), 409, 'ab_test_already_running'],
      ['a variant naming a step the tour lacks', () => as(stack, org).put(`/api/tours/config/${tourId}`, { ab_test: { variant_a: {}, variant_b: { steps: { nope: { title: 'x' } } }, traffic_split: 0.5 } }), 422, 'unknown_variant_step'],
      ['an unknown prerequisite', () => as(stack, org).put(`/api/tours/config/${tourId}`, { targeting: { prerequisites: [crypto.randomUUID()] } }), 422, 'unknown_prerequisite'],
      ['itself as a prerequisite', () => as(stack, org).put(`/api/tours/config/${tourId}`, { targeting: { prerequisites: [tourId] } }), 422, 'unknown_prerequisite'],
      ['a prerequisite cycle', () => as(stack, org).put(`/api/tours/config/${tourId}`, { targeting: { prerequisites: [otherTour] } }), 422, 'prerequisite_cycle'],
      ['a step without a title', () => as(stack, org).put(`/api/tours/config/${tourId}`, { steps: [{ step_key: 'one' }] }), 400, 'validation_error'],
      ['an unknown field', () => as(stack, org).put(`/api/tours/config/${tourId}`, { tour: { colour: 'blue' } }), 400, 'validation_error'],
      ['an empty change', () => as(stack, org).put(`/api/tours/config/${tourId}`, {}), 400, 'validation_error'],
      ['publishing no steps', () => as(stack, org).put(`/api/tours/config/${tourId}`, { steps: [], publish: true }), 422, 'tour_has_no_steps'],
      ['a taken tour key', () => as(stack, org).post('/api/tours/config', { tour: { tour_key: 'couple-welcome', name: 'Dup' } }), 409, 'tour_key_taken'],
    ];

    it.each(cases)('%s', async (_name, send, status, code) => {
      const before = await snapshot();
      expectEnvelope(await send(), status, code);
      expect(await snapshot()).toEqual(before);
    });

    it('another organisation\'s tour is not found, and stays as it was', async () => {
      const before = await snapshot();
      const other = await createOrg(stack.ownerDb);
      expectEnvelope(await as(stack, other).put(`/api/tours/config/${tourId}`, { tour: { name: 'Hijacked' } }), 404, 'not_found');
      expectEnvelope(await as(stack, other).get(`/api/tours/config/${tourId}`), 404, 'not_found');
      expectEnvelope(await as(stack, other).post(`/api/tours/config/${tourId}/publish`), 404, 'not_found');
      expectEnvelope(await as(stack, other).delete(`/api/tours/config/${tourId}`), 404, 'not_found');
      expect(await snapshot()).toEqual(before);
    });
  });
});
