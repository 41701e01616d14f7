import { as, expectEnvelope, publishedTour, stepsOf } from '../support/authoring';
import { createOrg } from '../support/fixtures';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack.close();
});

/** YYYY-MM-DD `days` from today (UTC; the tests' members have no time zone of their own, their organisation's is UTC). */
function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

const ids = (res: { body: { tours: { id: string }[] } }) => res.body.tours.map((t) => t.id);

describe('targeting: who is offered a tour', () => {
  it('offers a tour to its audience and wedding phase, from the member profile', async () => {
    const org = await createOrg(stack.ownerDb);
    const planning = await publishedTour(stack, org, { targeting: { audience: ['couples'], wedding_phase: 'planning' } });
    const engagement = await publishedTour(stack, org, { targeting: { audience: ['couples'], wedding_phase: 'engagement' } });
    const suppliers = await publishedTour(stack, org, { targeting: { audience: ['all_suppliers'], wedding_phase: 'planning' } });
    const member = as(stack, org, org.memberId);

    // Nothing known yet: every tour is offered.
    expect(ids(await member.get('/api/tours'))).toEqual(expect.arrayContaining([planning, engagement, suppliers]));

    const profiled = await as(stack, org).put(`/api/members/${org.memberId}`, { audience: 'couples', wedding_date: inDays(200), time_zone: 'Europe/Lisbon' });
    expect(profiled.status).toBe(200);
    const listed = ids(await member.get('/api/tours'));
    expect(listed).toContain(planning);
    expect(listed).not.toContain(engagement);
    expect(listed).not.toContain(suppliers);

    // A photographer is offered the all-suppliers tour and not the couples' one.
    await as(stack, org).put(`/api/members/${org.otherMemberId}`, { audience: 'photographers' });
    const photographer = ids(await as(stack, org, org.otherMemberId).get('/api/tours'));
    expect(photographer).toContain(suppliers);
    expect(photographer).not.toContain(planning);
  });

  it('lists tours in the order a wedding goes through its phases, then by name', async () => {
    const org = await createOrg(stack.ownerDb);
    const tour = (name: string, wedding_phase: string) => publishedTour(stack, org, { tour: { name }, targeting: { wedding_phase } });
    // Alphabetical phases would put final_month before planning and post_wedding before wedding_week.
    const made = [
      await tour('Week of', 'wedding_week'),
      await tour('Thank-you notes', 'post_wedding'),
      await tour('Seating', 'final_month'),
      await tour('Budget', 'planning'),
      await tour('Announcing', 'engagement'),
      await tour('Attire', 'planning'),
    ];
    const listed = ids(await as(stack, org, org.memberId).get('/api/tours')).filter((id) => made.includes(id));
    const [weekOf, thanks, seating, budget, announcing, attire] = made;
    expect(listed).toEqual([announcing, attire, budget, seating, weekOf, thanks]);
  });

  it('offers a tour only once its prerequisites are completed, and refuses an early start with 409 naming them', async () => {
    const org = await createOrg(stack.ownerDb);
    const first = await publishedTour(stack, org, { tour: { name: 'Your dashboard' }, steps: stepsOf(['only']) });
    const second = await publishedTour(stack, org, { targeting: { prerequisites: [first] } });
    const member = as(stack, org, org.memberId);
    expect(ids(await member.get('/api/tours'))).not.toContain(second);

    const early = await member.post(`/api/tours/${second}/start`, {});
    expectEnvelope(early, 409, 'prerequisites_missing');
    expect(early.body.error.details.missing).toEqual([{ tour_id: first, name: 'Your dashboard' }]);
    expect(early.body.error.message).toContain('Your dashboard');
    expect(await stack.ownerDb('user_tour_progress').where({ tour_id: second })).toEqual([]);

    const started = await member.post(`/api/tours/${first}/start`, {});
    await member.put(`/api/tours/progress/${started.body.progress_id}`, { action: 'next_step' }).then((r) => expect(r.body.tour_completed).toBe(true));
    expect(ids(await member.get('/api/tours'))).toContain(second);
    expect((await member.post(`/api/tours/${second}/start`, {})).status).toBe(201);
  });

  it('evaluates a tour\'s show and skip rules against the client\'s context and the profile\'s attributes', async () => {
    const org = await createOrg(stack.ownerDb);
    const big = await publishedTour(stack, org, {
      targeting: { show_conditions: { field: 'guest_count', op: 'gt', value: 100 }, skip_conditions: { field: 'has_planner', op: 'eq', value: true } },
    });
    const member = as(stack, org, org.memberId);
    const ctx = (c: object) => `/api/tours?context=${encodeURIComponent(JSON.stringify(c))}`;
    expect(ids(await member.get(ctx({ guest_count: 150 })))).toContain(big);
    expect(ids(await member.get(ctx({ guest_count: 40 })))).not.toContain(big);
    expect(ids(await member.get(ctx({ guest_count: 150, has_planner: true })))).not.toContain(big);
    // The profile's attributes win over what the client claims.
    await as(stack, org).put(`/api/members/${org.memberId}`, { attributes: { has_planner: true } });
    expect(ids(await member.get(ctx({ guest_count: 150, has_planner: false })))).not.toContain(big);
    expectEnvelope(await member.get('/api/tours?context=not-json'), 400, 'validation_error');
    expectEnvelope(await member.get(`/api/tours?context=${encodeURIComponent('[1,2]')}`), 400, 'validation_error');
  });

  it('keeps the steps a person\'s rules allow for their whole run, and serves the next ones for prefetch', async () => {
    const org = await createOrg(stack.ownerDb);
    const tourId = await publishedTour(stack, org, {
      steps: [
        { step_key: 'welcome', title: 'Welcome' },
        { step_key: 'seating', title: 'Seating plan', show_conditions: { field: 'guest_count', op: 'gte', value: 100 } },
        { step_key: 'planner', title: 'Find a planner', skip_conditions: { field: 'has_planner', op: 'eq', value: true } },
        { step_key: 'budget', title: 'Budget' },
      ],
    });
    const member = as(stack, org, org.memberId);
    const started = await member.post(`/api/tours/${tourId}/start`, { context: { guest_count: 40, has_planner: true } });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ total_steps: 2, progress: { total_steps: 2 } });
    // Later context does not move the steps of the run under way.
    const detail = await member.get(`/api/tours/${tourId}?context=${encodeURIComponent(JSON.stringify({ guest_count: 300 }))}`);
    expect(detail.body.tour.steps.map((s: { step_key: string }) => s.step_key)).toEqual(['welcome', 'budget']);
    const next = await member.put(`/api/tours/progress/${started.body.progress_id}`, { action: 'next_step' });
    expect(next.body.next_step).toMatchObject({ step_key: 'budget' });

    // Someone else, with a large wedding and no planner, takes all four.
    const other = as(stack, org, org.otherMemberId);
    const ctx = encodeURIComponent(JSON.stringify({ guest_count: 180 }));
    const page = await other.get(`/api/tours/${tourId}/steps?from=1&limit=2&context=${ctx}`);
    expect(page.body).toMatchObject({ from: 1, total_steps: 4, next_from: 3, tour_version: 1 });
    expect(page.body.steps.map((s: { step_key: string }) => s.step_key)).toEqual(['seating', 'planner']);
    expectEnvelope(await other.get(`/api/tours/${tourId}/steps?limit=0`), 400, 'validation_error');

    // Nobody's rules may leave a run empty.
    const lonely = await publishedTour(stack, org, { steps: [{ step_key: 'only', title: 'Only', show_conditions: { field: 'vip', op: 'eq', value: true } }] });
    expectEnvelope(await other.post(`/api/tours/${lonely}/start`, {}), 422, 'tour_has_no_steps');
  });
});
