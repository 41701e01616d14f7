import fc from 'fast-check';
import request from 'supertest';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { startStack, tokenFor, type Stack } from '../support/stack';

// Issue 10, item 4: what a person types reaches Postgres and comes back exactly, whatever it holds:
// placeholders knex or pg might read (`?`, `$1`, `:name`), quotes, backslashes, any unicode but NUL
// (which Postgres text cannot hold), emoji, and strings up to the field's 5000 characters.

let stack: Stack;
let org: OrgFixture;
let token: string;
let progressId: string;
/** The step the tour is on: moves alternate forward and back so the tour never finishes. */
let onFirstStep = true;

beforeAll(async () => {
  stack = await startStack();
  org = await createOrg(stack.ownerDb, { steps: 3 });
  token = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
  const started = await request(stack.app).post(`/api/tours/${org.tourId}/start`).set('Authorization', `Bearer ${token}`).send({});
  expect(started.status).toBe(201);
  progressId = started.body.progress_id;
});

afterAll(async () => {
  await stack.close();
});

/** Sends `feedback` with a move and returns it as the API answered it, as the API reads it back from Postgres, and as stored. */
async function roundTrip(feedback: string): Promise<{ answered: string; readBack: string; stored: string }> {
  const action = onFirstStep ? 'next_step' : 'previous_step';
  const moved = await request(stack.app)
    .put(`/api/tours/progress/${progressId}`)
    .set('Authorization', `Bearer ${token}`)
    .send({ action, user_feedback: { feedback } });
  expect(moved.status).toBe(200);
  onFirstStep = !onFirstStep;
  const read = await request(stack.app).get(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${token}`);
  expect(read.status).toBe(200);
  const row = await stack.ownerDb('user_tour_progress').select('feedback').where({ id: progressId }).first();
  return { answered: moved.body.progress.feedback, readBack: read.body.progress.feedback, stored: row.feedback };
}

/** Pieces that a query builder, a driver or an escaping bug would be likely to touch. */
const tricky = fc.constantFrom('?', '??', '$1', '$2', '$$', ':name', '::text', "'", "''", '"', '\\', '\\\\', '\\?', '%', '_', '`', ';', '--', '/*', '\n', '\r\n', '\t', '\u00a0', '\u2028', 'é', 'ß', '中文', '🎉', '👩‍❤️‍👨', '🏳️‍🌈', '\u{1F600}');
/** Any unicode scalar value but NUL (lone surrogates are not text: JSON.parse would turn them into U+FFFD). */
const anyText = fc.string({ unit: 'binary', maxLength: 200 }).map((s) => s.replace(/\0/g, ''));
const feedbackText = fc
  .array(fc.oneof(tricky, anyText), { maxLength: 30 })
  .map((parts) => parts.join(''))
  .filter((s) => s.length <= 5000);

describe('exact text', () => {
  it('keeps "Was it helpful? yes, and $1 too?" exactly as sent', async () => {
    const text = 'Was it helpful? yes, and $1 too?';
    expect(await roundTrip(text)).toEqual({ answered: text, readBack: text, stored: text });
  });

  it('keeps the longest feedback the API takes, placeholders and emoji included', async () => {
    const text = ('?$1 🎉 \\"quoted\' ').repeat(400).slice(0, 5000);
    expect(text.length).toBe(5000);
    expect(await roundTrip(text)).toEqual({ answered: text, readBack: text, stored: text });
  });

  it('keeps any NUL-free text exactly, through the API, the workflow and Postgres (property)', async () => {
    await fc.assert(
      fc.asyncProperty(feedbackText, async (text) => {
        expect(await roundTrip(text)).toEqual({ answered: text, readBack: text, stored: text });
      }),
      { numRuns: 60 },
    );
  });
});
