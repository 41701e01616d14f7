import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createTourWorkflows, TourRejection, type TourWorkflows } from '../../api/temporal';
import type { Config } from '../../config';
import type { TourShape } from '../../domain/tour-state';
import { tourStateQuery } from '../../workflows/tour-lifecycle';
import { tourWorkflowId } from '../../workflows/search-attributes';
import { fakeActivities } from '../support/fake-activities';
import { quietRuntime, testConfig } from '../support/stack';

const shape = (steps = 4): TourShape => ({
  tourId: crypto.randomUUID(),
  name: 'Welcome',
  steps: Array.from({ length: steps }, (_, i) => ({ key: `s${i}`, skippable: i !== 0 })),
});

let connection: Connection;
let nativeConnection: NativeConnection;
let client: Client;

beforeAll(async () => {
  quietRuntime();
  const config = testConfig();
  connection = await Connection.connect({ address: config.temporal.address });
  nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  client = new Client({ connection });
});

afterAll(async () => {
  await nativeConnection.close();
  await connection.close();
});

/** Runs `fn` with a worker on a fresh task queue whose activities are the given fakes. */
async function withWorker<T>(
  fake: ReturnType<typeof fakeActivities>,
  fn: (tours: TourWorkflows, config: Config) => Promise<T>,
  overrides: Record<string, string> = {},
): Promise<T> {
  const config = testConfig(overrides);
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: { codePath: config.temporal.workflowBundle! },
    activities: fake.activities,
  });
  return worker.runUntil(fn(createTourWorkflows(client, config), config));
}

function key(s: TourShape) {
  return { orgId: crypto.randomUUID(), userId: crypto.randomUUID(), tourId: s.tourId };
}

async function historyEvents(workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).map((e) => String(e.eventType));
}

describe('tour lifecycle workflow', () => {
  it('rejects an invalid move in the validator without failing a workflow task or writing history', async () => {
    const s = shape();
    const fake = fakeActivities(s);
    await withWorker(fake, async (tours) => {
      const k = key(s);
      await tours.start(k, {}, 'test');
      const id = tourWorkflowId(k.orgId, k.userId, k.tourId);
      const before = (await historyEvents(id)).length;
      await expect(tours.advance(k, { action: 'previous_step' }, 'test')).rejects.toMatchObject({ code: 'no_previous_step' });
      await expect(tours.advance(k, { action: 'skip_step' }, 'test')).rejects.toMatchObject({ code: 'step_not_skippable' });
      await expect(tours.advance(k, { action: 'next_step', stepIndex: 9 }, 'test')).rejects.toBeInstanceOf(TourRejection);
      const events = await historyEvents(id);
      expect(events.length).toBe(before);
      expect(events.filter((e) => e.includes('WORKFLOW_TASK_FAILED'))).toEqual([]);
      const next = await tours.advance(k, { action: 'next_step' }, 'test');
      expect(next.state).toMatchObject({ currentStepIndex: 1, version: 2 });
    });
  });

  it('persists every accepted transition once, in version order, with its analytics events', async () => {
    const s = shape(3);
    const fake = fakeActivities(s);
    await withWorker(fake, async (tours) => {
      const k = key(s);
      await tours.start(k, {}, 'test');
      await tours.advance(k, { action: 'next_step' }, 'test');
      await tours.advance(k, { action: 'complete_tour', feedback: { rating: 4 } }, 'test');
      expect(fake.writes.map((w) => w.state.version)).toEqual([1, 2, 3]);
      expect(fake.writes[2]!.events.map((e) => e.type)).toEqual(['tour_completed', 'feedback_submitted']);
      const handle = client.workflow.getHandle(tourWorkflowId(k.orgId, k.userId, k.tourId));
      // Nobody is mid-tour any more, so the run ends with the final state.
      expect(await handle.result()).toMatchObject({ status: 'completed', version: 3 });
      const description = await handle.describe();
      expect(description.searchAttributes).toMatchObject({ TourStatus: ['completed'], TourStepIndex: [1] });
    });
  });

  it('keeps a step the user took when Postgres is briefly down, and writes it once it is back', async () => {
    const s = shape(4);
    const fake = fakeActivities(s);
    await withWorker(fake, async (tours) => {
      const k = key(s);
      await tours.start(k, {}, 'test');
      // More failures than the handler's local-activity attempts: the main loop must finish the job.
      fake.failNext(7);
      const moved = await tours.advance(k, { action: 'next_step' }, 'test');
      expect(moved.state.version).toBe(2);
      const handle = client.workflow.getHandle(tourWorkflowId(k.orgId, k.userId, k.tourId));
      for (let i = 0; i < 100 && fake.stored()?.version !== 2; i++) await new Promise((r) => setTimeout(r, 100));
      expect(fake.stored()).toMatchObject({ version: 2, currentStepIndex: 1 });
      expect(await handle.query(tourStateQuery)).toMatchObject({ version: 2 });
    });
  });

  it('resumes from the stored progress when the workflow is re-created', async () => {
    const s = shape(4);
    const k = key(s);
    const stored = {
      progressId: crypto.randomUUID(), orgId: k.orgId, userId: k.userId, tourId: s.tourId, status: 'abandoned' as const,
      currentStepIndex: 2, completedSteps: [0, 1], skippedSteps: [], totalSteps: 4, version: 7, startedAt: null,
      completedAt: null, lastInteractionAt: null, totalTimeMs: 0, feedback: {}, deviceType: null, viewportSize: null,
    };
    const fake = fakeActivities(s, { stored });
    await withWorker(fake, async (tours) => {
      const resumed = await tours.start(k, {}, 'test');
      expect(resumed.state).toMatchObject({ progressId: stored.progressId, status: 'in_progress', currentStepIndex: 2, version: 8 });
    });
  });

  it('answers tour_not_found for a tour that does not exist', async () => {
    const s = shape();
    const fake = fakeActivities(null);
    await withWorker(fake, async (tours) => {
      await expect(tours.start(key(s), {}, 'test')).rejects.toMatchObject({ code: 'tour_not_found' });
    });
  });

  it('continues as new before the update limit and carries the state across', async () => {
    const s = shape(40);
    const fake = fakeActivities(s);
    await withWorker(
      fake,
      async (tours) => {
        const k = key(s);
        await tours.start(k, {}, 'test');
        for (let i = 0; i < 25; i++) await tours.advance(k, { action: 'next_step' }, 'test');
        const handle = client.workflow.getHandle(tourWorkflowId(k.orgId, k.userId, k.tourId));
        const state = await handle.query(tourStateQuery);
        expect(state).toMatchObject({ currentStepIndex: 25, version: 26 });
        const runs = await client.workflow.count(`WorkflowId = '${handle.workflowId}'`);
        expect(runs.count).toBeGreaterThanOrEqual(3); // 26 updates at 10 per run
        expect(fake.writes.map((w) => w.state.version)).toEqual(Array.from({ length: 26 }, (_, i) => i + 1));
      },
      { TOUR_CONTINUE_AS_NEW_AFTER_UPDATES: '10' },
    );
  });

  it('replays every recorded history of earlier workflow versions without nondeterminism', async () => {
    const dir = path.join(__dirname, 'histories');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
      await Worker.runReplayHistory({ workflowBundle: { codePath: testConfig().temporal.workflowBundle! } }, history, file);
    }
  });
});
