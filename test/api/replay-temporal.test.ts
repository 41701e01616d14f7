import crypto from 'node:crypto';
import { NativeConnection, type Worker } from '@temporalio/worker';
import request from 'supertest';
import { z } from 'zod';
import { createConnectorFactory } from '../../activities/connector-factory';
import { createDeliveryReplays } from '../../services/temporal';
import { replay } from '../../cli/commands/replay';
import type { CrmConnector } from '../../connectors/contracts';
import { createRegistry, type ProviderEntry } from '../../connectors/registry';
import { pgDeliveryGuard } from '../../db/repositories/deliveries';
import { createProviderWorkers } from '../../worker';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { insertTestDelivery, insertTestIntegration } from '../support/hub-rows';
import { startStack, testSecretBox, tokenFor, type Stack } from '../support/stack';
import { testOutbound } from '../support/connectors';

// A provider of our own, on a queue no other suite polls, that accepts every call and records its key.
const providerId = `replay-crm-${crypto.randomUUID().slice(0, 8)}`;
const received: string[] = [];
const replayCrm: ProviderEntry = {
  id: providerId,
  category: 'crm',
  displayName: 'Replay CRM',
  auth: 'api-key',
  credentialsSchema: z.strictObject({ apiKey: z.string() }),
  settingsSchema: z.strictObject({}),
  hosts: [],
  ratePerSecond: 50,
  docsUrl: 'https://example.invalid',
  create: () =>
    ({
      async logActivity(_input, { idempotencyKey }) {
        received.push(idempotencyKey);
        return { activityId: `act-${received.length}` };
      },
    }) as Partial<CrmConnector> as CrmConnector,
};

const box = testSecretBox();
let stack: Stack;
let connection: NativeConnection;
let providerWorker: Worker;
let running: Promise<void>;
let org: OrgFixture;
let integrationId: string;

beforeAll(async () => {
  // The stack's worker runs the replay workflow; one provider worker runs the real deliver activity.
  stack = await startStack({ worker: true, box });
  connection = await NativeConnection.connect({ address: stack.config.temporal.address });
  const registry = createRegistry([replayCrm]);
  [providerWorker] = (await createProviderWorkers({
    config: stack.config,
    db: stack.workerDb,
    box,
    connection,
    registry,
    connectors: createConnectorFactory({ db: stack.workerDb, box, registry, timeoutMs: 2000, outbound: testOutbound(), refreshGrants: {}, guardFor: (row) => pgDeliveryGuard(stack.workerDb, row) }),
  })) as [Worker];
  running = providerWorker.run();
  org = await createOrg(stack.ownerDb);
  integrationId = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: providerId });
});

afterAll(async () => {
  providerWorker?.shutdown();
  await running;
  await connection?.close();
  await stack?.close();
});

async function waitForStatus(deliveryId: string, status: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await stack.ownerDb('integration_deliveries').where({ id: deliveryId }).first();
    if (row.status === status) return row;
    if (Date.now() > deadline) throw new Error(`delivery ${deliveryId} still ${row.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('replaying a dead delivery through Temporal', () => {
  it('re-sends the sealed call with its key through the API, and the dead row becomes succeeded', async () => {
    const token = await tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });
    const dead = await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId });
    const res = await request(stack.app).post(`/api/integrations/deliveries/${dead.id}/replay`).set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(202);
    expect(res.body.replay).toEqual({ delivery_id: dead.id, workflow_id: `delivery-replay:${dead.id}` });

    const row = await waitForStatus(dead.id, 'succeeded');
    expect(row).toMatchObject({ status: 'succeeded', last_error: null, provider_reference: expect.stringMatching(/^act-/) });
    expect(row.delivered_at).not.toBeNull();
    expect(received.filter((k) => k === dead.idempotencyKey)).toHaveLength(1);
    expect(await stack.ownerDb('integration_logs').where({ delivery_id: dead.id, success: true }).count({ n: '*' })).toEqual([{ n: 1 }]);
    const outcome = await stack.client.workflow.getHandle(`delivery-replay:${dead.id}`).result();
    expect(outcome).toMatchObject({ alreadyDelivered: false });

    const listed = await request(stack.app).get(`/api/integrations/deliveries?integration_id=${integrationId}&status=succeeded`).set('Authorization', `Bearer ${token}`);
    expect(listed.body.deliveries.map((d: { id: string }) => d.id)).toContain(dead.id);
    // Delivered now: a second replay is refused and sends nothing.
    const again = await request(stack.app).post(`/api/integrations/deliveries/${dead.id}/replay`).set('Authorization', `Bearer ${token}`);
    expect({ status: again.status, code: again.body.error.code }).toEqual({ status: 409, code: 'already_delivered' });
  });

  it('does the same from `tourhub replay --integration`', async () => {
    const dead = await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId });
    const out: string[] = [];
    const err: string[] = [];
    const code = await replay(
      { db: stack.ownerDb, replays: createDeliveryReplays(stack.client, stack.config), out: (l) => out.push(l), err: (l) => err.push(l) },
      { kind: 'integration', integrationId, status: 'dead' },
    );
    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(out).toEqual([expect.stringContaining(`delivery ${dead.id}`), '1 replay started']);
    await waitForStatus(dead.id, 'succeeded');
    expect(received.filter((k) => k === dead.idempotencyKey)).toHaveLength(1);
  });
});
