import { as, expectEnvelope } from '../support/authoring';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { insertTestIntegration } from '../support/hub-rows';
import { startStack, testSecretBox, type Stack } from '../support/stack';
import { tourWorkflowId } from '../../workflows/tour-lifecycle/messages';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack.close();
});

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An organisation whose member has an email, and a CRM integration nobody polls for (nothing is sent). */
async function orgWithCrm(): Promise<{ org: OrgFixture; crm: string }> {
  const org = await createOrg(stack.ownerDb, { steps: 2 });
  await stack.ownerDb('organization_members').where({ organization_id: org.orgId, user_id: org.memberId }).update({ email: 'ava@example.com', display_name: 'Ava Reed' });
  return { org, crm: await insertTestIntegration(stack.ownerDb, testSecretBox(), { orgId: org.orgId, provider: 'test-crm' }) };
}

async function completed(org: OrgFixture, feedback?: object): Promise<string> {
  const member = as(stack, org, org.memberId);
  const started = await member.post(`/api/tours/${org.tourId}/start`, {});
  const done = await member.put(`/api/tours/progress/${started.body.progress_id}`, { action: 'complete_tour', ...(feedback ? { user_feedback: feedback } : {}) });
  expect(done.body.tour_completed).toBe(true);
  return started.body.progress_id;
}

const feedbackNotes = (crm: string) => stack.ownerDb('integration_deliveries').where({ integration_id: crm, event_type: 'feedback_submitted' });
/** What webhook subscriptions hear of a progress's feedback (the outbox, issue 13). */
const feedbackWebhooks = (progressId: string) => stack.ownerDb('outbound_events').where({ subject_id: progressId, event_type: 'feedback.submitted' });

describe('feedback after the end', () => {
  it('rates a finished tour once, and the rating reaches the hub\'s feedback_submitted route and one feedback.submitted webhook event', async () => {
    const { org, crm } = await orgWithCrm();
    const progressId = await completed(org);
    const member = as(stack, org, org.memberId);
    const rated = await member.post(`/api/tours/progress/${progressId}/feedback`, { rating: 4, feedback: 'Lovely, thank you', was_helpful: true });
    expect(rated.status).toBe(201);
    expect(rated.body.progress).toMatchObject({ status: 'completed', user_rating: 4, feedback: 'Lovely, thank you', was_helpful: true });
    expect(await stack.ownerDb('user_tour_progress').where({ id: progressId }).first()).toMatchObject({ user_rating: 4, was_helpful: true });
    const notes = await until(() => feedbackNotes(crm), (rows) => rows.length > 0);
    expect(notes.map((n) => n.action)).toEqual(['crm.addNote']);
    const events = await stack.ownerDb('tour_analytics_events').where({ progress_id: progressId, event_type: 'feedback_submitted' });
    expect(events).toHaveLength(1);

    // Webhook subscriptions hear feedback.submitted once, with the rating.
    const webhooks = await feedbackWebhooks(progressId);
    expect(webhooks).toHaveLength(1);
    expect(webhooks[0].payload).toMatchObject({ progress_id: progressId, feedback: { rating: 4, feedback: 'Lovely, thank you', was_helpful: true } });

    const again = await member.post(`/api/tours/progress/${progressId}/feedback`, { rating: 1 });
    expectEnvelope(again, 409, 'feedback_already_given');
    expect(again.body.error.details.current_progress).toMatchObject({ user_rating: 4 });
    expect(await stack.ownerDb('user_tour_progress').where({ id: progressId }).first()).toMatchObject({ user_rating: 4 });
    expect(await feedbackWebhooks(progressId)).toHaveLength(1);
  });

  it('reaches a tour whose run has closed, through update-with-start', async () => {
    const { org, crm } = await orgWithCrm();
    const progressId = await completed(org);
    // The run would close after its last check-in; an operator closing it now is the same to the API.
    await stack.client.workflow.getHandle(tourWorkflowId(org.orgId, org.memberId, org.tourId)).terminate('closed for the test');
    const rated = await as(stack, org, org.memberId).post(`/api/tours/progress/${progressId}/feedback`, { rating: 5 });
    expect(rated.status).toBe(201);
    expect(rated.body.progress).toMatchObject({ user_rating: 5, status: 'completed' });
    expect(await until(() => feedbackNotes(crm), (rows) => rows.length > 0)).toHaveLength(1);
    expect(await feedbackWebhooks(progressId)).toHaveLength(1);
  });

  it('refuses an unfinished tour, a tour rated with its last step, someone else\'s progress and an empty rating, changing nothing', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 3 });
    const member = as(stack, org, org.memberId);
    const started = await member.post(`/api/tours/${org.tourId}/start`, {});
    const progressId = started.body.progress_id;
    expectEnvelope(await member.post(`/api/tours/progress/${progressId}/feedback`, { rating: 5 }), 409, 'tour_not_finished');
    expectEnvelope(await member.post(`/api/tours/progress/${progressId}/feedback`, {}), 400, 'validation_error');
    expectEnvelope(await member.post(`/api/tours/progress/${progressId}/feedback`, { rating: 9 }), 400, 'validation_error');
    expectEnvelope(await as(stack, org, org.otherMemberId).post(`/api/tours/progress/${progressId}/feedback`, { rating: 5 }), 404, 'not_found');
    expect(await stack.ownerDb('user_tour_progress').where({ id: progressId }).first()).toMatchObject({ user_rating: null, version: 1 });

    const other = await createOrg(stack.ownerDb, { steps: 1 });
    const ratedWithStep = await completed(other, { rating: 5 });
    expectEnvelope(await as(stack, other, other.memberId).post(`/api/tours/progress/${ratedWithStep}/feedback`, { rating: 2 }), 409, 'feedback_already_given');
  });
});
