import type { ChildProcess } from 'node:child_process';
import request from 'supertest';
import { createOrg } from '../support/fixtures';
import { startStack, tokenFor, type Stack } from '../support/stack';
import { killed, spawnWorker } from '../support/worker-process';

let stack: Stack;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  // The API waits out the worker's absence instead of giving up after the default 10 s.
  stack = await startStack({ worker: false, config: { TOUR_UPDATE_TIMEOUT_MS: '45000' } });
});

afterAll(async () => {
  if (worker) await killed(worker, 'SIGTERM');
  await stack.close();
});

describe('a worker killed mid-tour', () => {
  it('lets the tour go on from where it was after a restart, losing no accepted step', async () => {
    const org = await createOrg(stack.ownerDb, { steps: 6 });
    const token = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    const put = (body: object) =>
      request(stack.app).put(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${token}`).send(body);

    worker = await spawnWorker(stack.config, {});
    const started = await request(stack.app).post(`/api/tours/${org.tourId}/start`).set('Authorization', `Bearer ${token}`).send({});
    expect(started.status).toBe(201);
    const progressId: string = started.body.progress_id;
    await put({ action: 'next_step' }).expect(200);
    await put({ action: 'next_step' }).expect(200);

    await killed(worker, 'SIGKILL');
    // A click while no worker is alive: accepted once a worker is back, not lost and not doubled.
    const inFlight = put({ action: 'next_step', expected_version: 3 }).then((r) => r);
    await new Promise((r) => setTimeout(r, 500));
    worker = await spawnWorker(stack.config, {});

    const moved = await inFlight;
    expect(moved.status).toBe(200);
    expect(moved.body.progress).toMatchObject({ version: 4, current_step_index: 3, completed_steps: [0, 1, 2] });

    await put({ action: 'next_step', expected_version: 4 }).expect(200);
    await put({ action: 'next_step' }).expect(200);
    const done = await put({ action: 'next_step' });
    expect(done.body).toMatchObject({ tour_completed: true, progress: { status: 'completed', version: 7 } });

    const row = await stack.ownerDb('user_tour_progress').where({ id: progressId }).first();
    expect(row).toMatchObject({ status: 'completed', version: 7, completed_steps: [0, 1, 2, 3, 4, 5] });
    const completedEvents = await stack.ownerDb('tour_analytics_events')
      .where({ progress_id: progressId, event_type: 'step_completed' })
      .orderBy('step_index')
      .pluck('step_index');
    expect(completedEvents).toEqual([0, 1, 2, 3, 4, 5]);
  }, 120_000);
});
