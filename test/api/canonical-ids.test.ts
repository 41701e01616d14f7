import crypto from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import fc from 'fast-check';
import request from 'supertest';
import { z } from 'zod';
import { createTokenVerifier, signToken } from '../../api/middleware/auth';
import { ALL_ROUTE_GROUPS } from '../../api/routes';
import { parseOrgArgs } from '../../cli/commands/org';
import { parseReplayArgs } from '../../cli/commands/replay';
import { DEMO, seedDemo } from '../../db/seeds/demo';
import { tourWorkflowId } from '../../workflows/tour-lifecycle/messages';
import { TEST_JWT_SECRET } from '../support/constants';
import { createOrg } from '../support/fixtures';
import { insertTestDelivery, insertTestIntegration } from '../support/hub-rows';
import { startStack, testSecretBox, tokenFor, type Stack } from '../support/stack';

// Issue 10, item 3: an id is the same id whatever its letters' case. Every UUID that arrives (path,
// query, body, token) is made canonical (lower case) at the edge, so workflow ids and idempotency keys
// (built from ids) never fork into a second workflow for the same progress row.

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  await seedDemo(stack.ownerDb);
});

afterAll(async () => {
  await stack.close();
});

const api = () => request(stack.app);

/** A valid UUID and a spelling of it with random letters in upper case. */
const mixedUuid = fc.tuple(fc.uuid(), fc.array(fc.boolean(), { minLength: 1, maxLength: 32 })).map(([id, upper]) => ({ id, mixed: mixCase(id, upper) }));

/**
 * Every UUID field a request schema declares (path, query, body; nested objects and arrays too), found
 * by walking the zod schema: a leaf whose JSON Schema says `format: uuid` is an id.
 */
function uuidFields(schema: z.ZodType, at: string): { at: string; schema: z.ZodType }[] {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault) return uuidFields(schema.unwrap() as z.ZodType, at);
  if (schema instanceof z.ZodObject) return Object.entries(schema.shape as Record<string, z.ZodType>).flatMap(([k, v]) => uuidFields(v, `${at}.${k}`));
  if (schema instanceof z.ZodArray) return uuidFields(schema.element as z.ZodType, `${at}[]`);
  if (schema instanceof z.ZodPipe) return [...uuidFields(schema.in as z.ZodType, at), ...uuidFields(schema.out as z.ZodType, at)];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { format?: string };
  return json.format === 'uuid' ? [{ at, schema }] : [];
}

/** The id with each hex letter's case chosen by `upper` (cycled). */
function mixCase(id: string, upper: readonly boolean[]): string {
  let i = 0;
  return [...id].map((ch) => (/[a-f]/i.test(ch) ? (upper[i++ % Math.max(upper.length, 1)] ? ch.toUpperCase() : ch.toLowerCase()) : ch)).join('');
}

async function workflowExists(workflowId: string): Promise<boolean> {
  try {
    await stack.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

async function progressRows(orgId: string, userId: string) {
  return stack.ownerDb('user_tour_progress').select('id', 'user_id', 'tour_id', 'workflow_id').where({ organization_id: orgId, user_id: userId });
}

/** A fresh couple in the demo organisation (the inputs name the demo tour). */
async function demoCouple(): Promise<string> {
  const userId = crypto.randomUUID();
  await stack.ownerDb('organization_members').insert({ organization_id: DEMO.orgId, user_id: userId, role: 'member' });
  return userId;
}

describe('canonical ids at the edge', () => {
  const endpoints = ALL_ROUTE_GROUPS.flatMap((g) => g.endpoints);
  const fields = endpoints.flatMap((e) =>
    (['params', 'query', 'body'] as const).flatMap((where) => (e[where] ? uuidFields(e[where]!, `${e.operationId} ${where}`) : [])),
  );

  it('finds the id fields of every endpoint declaration', () => {
    // The walk must see the ids there are, or the property below would pass over nothing.
    expect(fields.map((f) => f.at)).toEqual(
      expect.arrayContaining(['startTour params.id', 'getTour params.id', 'getProgress params.progressId', 'advanceProgress params.progressId', 'getIntegration params.id', 'replayDelivery params.id', 'listDeliveries query.integration_id']),
    );
  });

  it('makes every id field of every endpoint canonical, whatever the case sent (property)', () => {
    fc.assert(
      fc.property(mixedUuid, fc.constantFrom(...fields), ({ id, mixed }, field) => {
        const parsed = field.schema.safeParse(mixed);
        expect({ at: field.at, ok: parsed.success, value: parsed.data }).toEqual({ at: field.at, ok: true, value: id });
      }),
      { numRuns: 500 },
    );
  });

  it("makes a token's sub and org canonical (property)", async () => {
    const verifier = createTokenVerifier({ secret: TEST_JWT_SECRET, issuer: 'tourhub', audience: 'tourhub-api' });
    await fc.assert(
      fc.asyncProperty(mixedUuid, mixedUuid, async (org, user) => {
        const token = await signToken({ secret: TEST_JWT_SECRET, issuer: 'tourhub', audience: 'tourhub-api' }, { orgId: org.mixed, userId: user.mixed });
        const identity = await verifier.verify(token);
        expect({ orgId: identity.orgId, userId: identity.userId }).toEqual({ orgId: org.id, userId: user.id });
      }),
      { numRuns: 200 },
    );
  });

  it('makes the ids the CLI takes canonical (property)', () => {
    fc.assert(
      fc.property(mixedUuid, ({ id, mixed }) => {
        expect(parseReplayArgs(['--delivery', mixed])).toEqual({ ok: true, args: { kind: 'delivery', deliveryId: id } });
        expect(parseReplayArgs(['--integration', mixed])).toEqual({ ok: true, args: { kind: 'integration', integrationId: id, status: 'dead' } });
        const org = parseOrgArgs(['create', '--name', 'Ava & Leo', '--admin-user', mixed]);
        expect(org.ok && !org.help && org.input.adminUserId).toBe(id);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses to build a workflow id from ids that are not canonical', () => {
    expect(() => tourWorkflowId(DEMO.orgId, DEMO.coupleUserId, 'D0000000-0000-4000-8000-000000000001')).toThrow(/tourId "D0000000-0000-4000-8000-000000000001" must be lower-case/);
    expect(() => tourWorkflowId(DEMO.orgId, DEMO.coupleUserId.toUpperCase(), DEMO.coupleTourId)).toThrow(/userId/);
  });
});

describe('canonical ids', () => {
  it('lands POST /api/tours/D0000000-0000-4000-8000-000000000001/start on the same workflow and progress row as the lower-case id', async () => {
    const userId = await demoCouple();
    const token = await tokenFor(stack, { orgId: DEMO.orgId, userId });
    const lower = await api().post(`/api/tours/${DEMO.coupleTourId}/start`).set('Authorization', `Bearer ${token}`).send({});
    expect(lower.status).toBe(201);
    const upper = await api().post('/api/tours/D0000000-0000-4000-8000-000000000001/start').set('Authorization', `Bearer ${token}`).send({});
    // The tour is in progress: a second start answers with the running progress, unchanged.
    expect(upper.status).toBe(200);
    expect(upper.body.progress_id).toBe(lower.body.progress_id);
    expect(upper.body.progress.tour_id).toBe(DEMO.coupleTourId);

    const rows = await progressRows(DEMO.orgId, userId);
    expect(rows).toEqual([{ id: lower.body.progress_id, user_id: userId, tour_id: DEMO.coupleTourId, workflow_id: tourWorkflowId(DEMO.orgId, userId, DEMO.coupleTourId) }]);
    expect(await workflowExists(tourWorkflowId(DEMO.orgId, userId, DEMO.coupleTourId))).toBe(true);
    expect(await workflowExists(`tour:${DEMO.orgId}:${userId}:D0000000-0000-4000-8000-000000000001`)).toBe(false);
  });

  it("lets a token whose sub is in upper case read and move the user's own progress", async () => {
    const userId = await demoCouple();
    const lowerToken = await tokenFor(stack, { orgId: DEMO.orgId, userId });
    const upperToken = await tokenFor(stack, { orgId: DEMO.orgId, userId: userId.toUpperCase() }, { membership: 'as-is' });
    const started = await api().post(`/api/tours/${DEMO.coupleTourId}/start`).set('Authorization', `Bearer ${lowerToken}`).send({});
    expect(started.status).toBe(201);
    const progressId = started.body.progress_id as string;

    const read = await api().get(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${upperToken}`);
    expect(read.status).toBe(200);
    expect(read.body.progress.user_id).toBe(userId);
    const moved = await api().put(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${upperToken}`).send({ action: 'next_step' });
    expect(moved.status).toBe(200);
    expect(moved.body.progress).toMatchObject({ id: progressId, user_id: userId, current_step_index: 1, version: 2 });
    // A start with the upper-case sub finds the same run rather than a second one.
    const again = await api().post(`/api/tours/${DEMO.coupleTourId}/start`).set('Authorization', `Bearer ${upperToken}`).send({});
    expect(again.status).toBe(200);
    expect(again.body.progress_id).toBe(progressId);
    expect(await progressRows(DEMO.orgId, userId)).toHaveLength(1);
    expect(await workflowExists(`tour:${DEMO.orgId}:${userId.toUpperCase()}:${DEMO.coupleTourId}`)).toBe(false);
  });

  it('answers ids in canonical form whatever case the path, query and token used (property)', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 3 });
    const mask = fc.array(fc.boolean(), { minLength: 1, maxLength: 32 });
    await fc.assert(
      fc.asyncProperty(mask, mask, mask, mask, mask, async (orgCase, subCase, tourCase, progressCase, queryCase) => {
        const userId = crypto.randomUUID();
        await stack.ownerDb('organization_members').insert({ organization_id: org.orgId, user_id: userId, role: 'member' });
        const token = await tokenFor(stack, { orgId: mixCase(org.orgId, orgCase), userId: mixCase(userId, subCase) }, { membership: 'as-is' });
        const auth = { Authorization: `Bearer ${token}` };

        const started = await api().post(`/api/tours/${mixCase(org.tourId, tourCase)}/start`).set(auth).send({});
        expect(started.status).toBe(201);
        const progressId = started.body.progress_id as string;
        expect(started.body.progress).toMatchObject({ organization_id: org.orgId, user_id: userId, tour_id: org.tourId });

        const read = await api().get(`/api/tours/progress/${mixCase(progressId, progressCase)}`).set(auth);
        expect(read.status).toBe(200);
        expect(read.body.progress.id).toBe(progressId);
        const moved = await api().put(`/api/tours/progress/${mixCase(progressId, progressCase)}`).set(auth).send({ action: 'next_step' });
        expect(moved.status).toBe(200);
        const tour = await api().get(`/api/tours/${mixCase(org.tourId, queryCase)}`).set(auth);
        expect(tour.status).toBe(200);
        expect(tour.body.user_progress).toMatchObject({ id: progressId, version: 2 });
        const again = await api().post(`/api/tours/${mixCase(org.tourId, queryCase)}/start`).set(auth).send({});
        expect(again.status).toBe(200);
        expect(again.body.progress_id).toBe(progressId);

        expect(await progressRows(org.orgId, userId)).toEqual([
          { id: progressId, user_id: userId, tour_id: org.tourId, workflow_id: tourWorkflowId(org.orgId, userId, org.tourId) },
        ]);
      }),
      { numRuns: 12 },
    );
  });

  it('filters deliveries by an integration id in any case (query, property)', async () => {
    const org = await createOrg(stack.ownerDb);
    const box = testSecretBox();
    const integrationId = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'tave' });
    const { id: deliveryId } = await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId, status: 'dead' });
    const admin = await tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 32 }), async (upper) => {
        const res = await api().get(`/api/integrations/deliveries?integration_id=${mixCase(integrationId, upper)}`).set('Authorization', `Bearer ${admin}`);
        expect(res.status).toBe(200);
        expect(res.body.deliveries.map((d: { id: string; integration_id: string }) => [d.id, d.integration_id])).toEqual([[deliveryId, integrationId]]);
      }),
      { numRuns: 20 },
    );
  });
});
