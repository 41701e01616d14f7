import crypto from 'node:crypto';
import { NativeConnection, type Worker } from '@temporalio/worker';
import request from 'supertest';
import { z } from 'zod';
import { createConnectorFactory } from '../../activities/connector-factory';
import type { CrmConnector } from '../../connectors/contracts';
import { createRegistry, type ProviderEntry } from '../../connectors/registry';
import { pgDeliveryGuard } from '../../db/repositories/deliveries';
import { createProviderWorkers } from '../../worker';
import { testOutbound } from '../support/connectors';
import { createOrg } from '../support/fixtures';
import { insertTestIntegration } from '../support/hub-rows';
import { startStack, testSecretBox, tokenFor, type Stack } from '../support/stack';

/**
 * Issue 10: a member looping `start {"restart": true}` then `complete_tour` sent the planner a fresh
 * round of CRM tasks, invitations, emails and texts on every loop. A CRM of our own records every call
 * it receives, on a queue no other suite polls.
 */
const providerId = `loop-crm-${crypto.randomUUID().slice(0, 8)}`;
const received: { method: string; key: string }[] = [];
const record = (method: string) => async (_input: unknown, { idempotencyKey }: { idempotencyKey: string }) => {
  received.push({ method, key: idempotencyKey });
  return { activityId: `a-${received.length}`, taskId: `t-${received.length}`, noteId: `n-${received.length}` };
};
const loopCrm: ProviderEntry = {
  id: providerId,
  category: 'crm',
  displayName: 'Loop CRM',
  auth: 'api-key',
  credentialsSchema: z.strictObject({ apiKey: z.string() }),
  settingsSchema: z.strictObject({}),
  hosts: [],
  ratePerSecond: 50,
  docsUrl: 'https://example.invalid',
  create: () =>
    ({
      logActivity: record('logActivity'),
      createTask: record('createTask'),
      setCustomFields: record('setCustomFields'),
      addNote: record('addNote'),
    }) as unknown as CrmConnector,
};

const LOOPS = 4;
const box = testSecretBox();
let stack: Stack;
let connection: NativeConnection;
let providerWorker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  // Completion books check-ins too; the first (a day out, sent a day ahead) would go at once. This suite
  // is about the two events a loop repeats, so the check-ins are booked far out of its way.
  stack = await startStack({ worker: true, box, config: { HUB_CHECK_IN_AFTER: '30d' } });
  connection = await NativeConnection.connect({ address: stack.config.temporal.address });
  const registry = createRegistry([loopCrm]);
  [providerWorker] = (await createProviderWorkers({
    config: stack.config,
    db: stack.workerDb,
    box,
    connection,
    registry,
    connectors: createConnectorFactory({ db: stack.workerDb, box, registry, timeoutMs: 2000, outbound: testOutbound(), refreshGrants: {}, guardFor: (row) => pgDeliveryGuard(stack.workerDb, row) }),
  })) as [Worker];
  running = providerWorker.run();
});

afterAll(async () => {
  providerWorker?.shutdown();
  await running;
  await connection?.close();
  await stack?.close();
});

describe('a tour restart loop', () => {
  it(`sends one round of provider effects for ${LOOPS} loops of start(restart) and complete_tour, and records the other rounds as suppressed`, async () => {
    const org = await createOrg(stack.ownerDb, { steps: 3 });
    await stack.ownerDb('organization_members').where({ organization_id: org.orgId, user_id: org.memberId }).update({ email: 'ava@example.com', display_name: 'Ava Reed' });
    const integrationId = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: providerId });
    const token = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    for (let i = 0; i < LOOPS; i++) {
      const start = await request(stack.app).post(`/api/tours/${org.tourId}/start`).set('Authorization', `Bearer ${token}`).send({ restart: true });
      expect(start.status).toBe(201);
      const done = await request(stack.app).put(`/api/tours/progress/${start.body.progress_id}`).set('Authorization', `Bearer ${token}`).send({ action: 'complete_tour' });
      expect(done.body).toMatchObject({ tour_completed: true });
    }

    // Every planned delivery settles: sent once, or suppressed.
    const perRound = 3; // tour_started: logActivity; tour_completed: logActivity and the follow-up task
    const deadline = Date.now() + 30_000;
    let rows: { event_type: string; action: string; status: string; suppressed_reason: string | null }[];
    for (;;) {
      rows = await stack.ownerDb('integration_deliveries').where({ integration_id: integrationId }).select('event_type', 'action', 'status', 'suppressed_reason');
      if (rows.length === LOOPS * perRound && rows.every((r) => r.status === 'succeeded' || r.status === 'suppressed')) break;
      if (Date.now() > deadline) throw new Error(`deliveries did not settle: ${JSON.stringify(rows)}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    // One round reached the CRM: one start activity, one completion activity, one follow-up task.
    expect(received.map((r) => r.method).sort()).toEqual(['createTask', 'logActivity', 'logActivity']);
    expect(rows.filter((r) => r.status === 'succeeded')).toHaveLength(perRound);
    const suppressed = rows.filter((r) => r.status === 'suppressed');
    expect(suppressed).toHaveLength((LOOPS - 1) * perRound);
    expect(suppressed.filter((r) => r.event_type === 'tour_started')).toHaveLength(LOOPS - 1);
    expect(suppressed.every((r) => /already went to this integration for this couple and tour at .* repeats within 24h are not sent/.test(r.suppressed_reason ?? ''))).toBe(true);

    // The organisation's admins see them, with the reason, in the deliveries list.
    const admin = await tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });
    const listed = await request(stack.app).get(`/api/integrations/deliveries?integration_id=${integrationId}&status=suppressed`).set('Authorization', `Bearer ${admin}`);
    expect(listed.status).toBe(200);
    expect(listed.body.deliveries).toHaveLength((LOOPS - 1) * perRound);
    expect(listed.body.deliveries[0]).toMatchObject({ status: 'suppressed', suppressed_reason: expect.stringContaining('HUB_SUPPRESS_REPEATS_WITHIN') });
  }, 90_000);
});
