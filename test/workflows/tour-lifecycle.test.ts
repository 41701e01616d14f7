import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { ENCRYPTED_ENCODING, tourDataConverter } from '../../services/payload-codec';
import { createTourWorkflows, TourRejection, type TourWorkflows } from '../../services/temporal';
import type { Config } from '../../config';
import type { TourShape } from '../../domain/tour-state';
import { tourStateQuery, tourWorkflowId } from '../../workflows/tour-lifecycle/messages';
import { fakeActivities } from '../support/fake-activities';
import { testConfig, testSecretBox } from '../support/stack';
import { useTemporal } from '../support/temporal';

const shape = (steps = 4): TourShape => ({
  tourId: crypto.randomUUID(),
  name: 'Welcome',
  steps: Array.from({ length: steps }, (_, i) => ({ key: `s${i}`, skippable: i !== 0 })),
});

const temporal = useTemporal();

/** Runs `fn` with a worker on a fresh task queue whose activities are the given fakes. */
async function withWorker<T>(
  fake: ReturnType<typeof fakeActivities>,
  fn: (tours: TourWorkflows, config: Config) => Promise<T>,
  overrides: Record<string, string> = {},
): Promise<T> {
  const config = testConfig(overrides);
  const worker = await Worker.create({
    connection: temporal.native,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: { codePath: config.temporal.workflowBundle! },
    dataConverter: temporal.dataConverter,
    activities: fake.activities,
  });
  return worker.runUntil(fn(createTourWorkflows(temporal.client, config), config));
}

function key(s: TourShape) {
  return { orgId: crypto.randomUUID(), userId: crypto.randomUUID(), tourId: s.tourId };
}

async function historyEvents(workflowId: string): Promise<string[]> {
  const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).map((e) => String(e.eventType));
}

/** The history's length once the workflow has stopped adding to it (the main loop went idle). */
async function settledHistoryLength(workflowId: string): Promise<number> {
  let last = -1;
  for (;;) {
    const length = (await historyEvents(workflowId)).length;
    if (length === last) return length;
    last = length;
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Polls `check` until it returns something truthy (30 s at most). */
async function until<T>(check: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('tour lifecycle workflow', () => {
  it('rejects an invalid move in the validator without failing a workflow task or writing history', async () => {
    const s = shape();
    const fake = fakeActivities(s);
    await withWorker(fake, async (tours) => {
      const k = key(s);
      await tours.start(k, {}, 'test');
      const id = tourWorkflowId(k.orgId, k.userId, k.tourId);
      // The start's own follow-up work (planning its tour_started deliveries) lands just after it.
      const before = await settledHistoryLength(id);
      await expect(tours.advance(k, { action: 'previous_step' }, 'test')).rejects.toMatchObject({ code: 'no_previous_step' });
      await expect(tours.advance(k, { action: 'skip_step' }, 'test')).rejects.toMatchObject({ code: 'step_not_skippable' });
      await expect(tours.advance(k, { action: 'next_step', stepIndex: 9 }, 'test')).rejects.toBeInstanceOf(TourRejection);
      const events = await historyEvents(id);
      // Nothing of the rejections is recorded. (The server may persist one empty workflow task, when a
      // rejected update's speculative task follows a task that ran a local activity: no commands in it.)
      const WORKFLOW_TASK = ['5', '6', '7']; // scheduled, started, completed
      expect(events.slice(before).filter((e) => !WORKFLOW_TASK.includes(e))).toEqual([]);
      expect(events.length - before).toBeLessThanOrEqual(3);
      expect(events.filter((e) => e.includes('WORKFLOW_TASK_FAILED'))).toEqual([]);
      const next = await tours.advance(k, { action: 'next_step' }, 'test');
      expect(next.state).toMatchObject({ currentStepIndex: 1, version: 2 });
    });
  });

  it('returns each transition with its events, and records them all itself before it closes', async () => {
    const s = shape(3);
    const fake = fakeActivities(s);
    await withWorker(fake, async (tours) => {
      const k = key(s);
      const started = await tours.start(k, {}, 'test');
      const moved = await tours.advance(k, { action: 'next_step' }, 'test');
      const done = await tours.advance(k, { action: 'complete_tour', feedback: { rating: 4 } }, 'test');
      // The caller gets what it needs to write the projection itself (read-your-writes).
      expect(started.events!.map((e) => [e.type, e.version, e.index])).toEqual([['tour_started', 1, 0], ['step_viewed', 1, 1]]);
      expect(moved.events!.map((e) => e.type)).toEqual(['step_completed', 'step_viewed']);
      expect(done.events!.map((e) => [e.type, e.version])).toEqual([['tour_completed', 3], ['feedback_submitted', 3]]);

      const handle = temporal.client.workflow.getHandle(tourWorkflowId(k.orgId, k.userId, k.tourId));
      // Nobody is mid-tour any more, so the run flushes and ends with the final state.
      expect(await handle.result()).toMatchObject({ status: 'completed', version: 3 });
      expect(fake.stored()).toMatchObject({ status: 'completed', version: 3 });
      const recorded = fake.writes.flatMap((w) => w.events.map((e) => `${e.version}:${e.index}:${e.type}`));
      expect(recorded).toEqual([
        '1:0:tour_started', '1:1:step_viewed', '2:0:step_completed', '2:1:step_viewed', '3:0:tour_completed', '3:1:feedback_submitted',
      ]);
      const description = await handle.describe();
      expect(description.searchAttributes).toMatchObject({ TourStatus: ['completed'], TourStepIndex: [1] });
    });
  });

  it('keeps the per-step path free of activities and upserts search attributes only when the status changes', async () => {
    const s = shape(6);
    const fake = fakeActivities(s);
    await withWorker(fake, async (tours) => {
      const k = key(s);
      await tours.start(k, {}, 'test');
      const id = tourWorkflowId(k.orgId, k.userId, k.tourId);
      const before = await historyEvents(id);
      for (let i = 0; i < 3; i++) await tours.advance(k, { action: 'next_step' }, 'test');
      const added = (await historyEvents(id)).slice(before.length);
      expect(added.filter((e) => e.includes('MARKER_RECORDED') || e.includes('ACTIVITY_TASK'))).toEqual([]);
      expect(added.filter((e) => e.includes('UPSERT_WORKFLOW_SEARCH_ATTRIBUTES'))).toEqual([]);
    });
  });

  it('keeps a step the user took when Postgres is down at flush time, and writes it once it is back', async () => {
    const s = shape(4);
    const fake = fakeActivities(s);
    await withWorker(fake, async (tours) => {
      const k = key(s);
      await tours.start(k, {}, 'test');
      await tours.advance(k, { action: 'next_step' }, 'test');
      // More failures than the flush's local-activity attempts: the loop waits and tries again.
      fake.failNext(7);
      const done = await tours.advance(k, { action: 'complete_tour' }, 'test');
      expect(done.state.version).toBe(3);
      const handle = temporal.client.workflow.getHandle(tourWorkflowId(k.orgId, k.userId, k.tourId));
      expect(await handle.result()).toMatchObject({ status: 'completed', version: 3 });
      expect(fake.stored()).toMatchObject({ version: 3, status: 'completed' });
      const versions = new Set(fake.writes.flatMap((w) => w.events.map((e) => e.version)));
      expect([...versions].sort()).toEqual([1, 2, 3]);
    });
  }, 60_000);

  it('waits out Postgres while loading the tour, saying why in its details, and answers the start once it is back', async () => {
    const s = shape(3);
    const fake = fakeActivities(s);
    let down = true;
    let loads = 0;
    const load = fake.activities.loadTour;
    // Down for more than the local activity's own quick retries: before issue 10 this failed the run.
    fake.activities.loadTour = async (input) => {
      loads++;
      if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      return load(input);
    };
    await withWorker(
      fake,
      async (tours) => {
        const k = key(s);
        const handle = temporal.client.workflow.getHandle(tourWorkflowId(k.orgId, k.userId, k.tourId));
        const start = tours.start(k, {}, 'test');
        const details = await until(async () => {
          const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata').catch(() => undefined);
          return meta?.currentDetails?.includes('Waiting for Postgres') ? meta.currentDetails : undefined;
        });
        expect(details).toMatch(/\*\*Waiting for Postgres:\*\* loading the tour: connect ECONNREFUSED 127\.0\.0\.1:5432 \(waiting since .*, try 1, next in 1 s\)/);
        expect(loads).toBeGreaterThanOrEqual(6); // the local activity's own quick retries came first
        down = false;
        expect((await start).state).toMatchObject({ status: 'in_progress', version: 1 });
        expect((await handle.describe()).status.name).toBe('RUNNING');
        const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
        expect(meta.currentDetails).not.toContain('Waiting for Postgres');
      },
      { TOUR_UPDATE_TIMEOUT_MS: '30000' },
    );
  }, 60_000);

  it('gives up on Postgres only after DB_OUTAGE_MAX_WAIT', async () => {
    const s = shape(3);
    const fake = fakeActivities(s);
    fake.activities.loadTour = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    };
    await withWorker(
      fake,
      async (tours) => {
        const k = key(s);
        await expect(tours.start(k, {}, 'test')).rejects.toMatchObject({ code: 'tour_timeout' });
        const id = tourWorkflowId(k.orgId, k.userId, k.tourId);
        await until(async () => (await temporal.client.workflow.count(`WorkflowId = '${id}' AND ExecutionStatus = 'Failed'`)).count > 0);
      },
      { TOUR_UPDATE_TIMEOUT_MS: '4000', DB_OUTAGE_MAX_WAIT: '2s' },
    );
  }, 60_000);

  it('answers a start whose run closed under it from a fresh run on the same progress, not with an engine error', async () => {
    const s = shape(3);
    const k = key(s);
    const stored = {
      progressId: crypto.randomUUID(), orgId: k.orgId, userId: k.userId, tourId: s.tourId, status: 'in_progress' as const,
      currentStepIndex: 1, completedSteps: [0], skippedSteps: [], totalSteps: 3, version: 4, startedAt: null,
      completedAt: null, lastInteractionAt: null, totalTimeMs: 0, feedback: {}, deviceType: null, viewportSize: null,
    };
    const fake = fakeActivities(s, { stored });
    let down = true;
    const load = fake.activities.loadTour;
    fake.activities.loadTour = async (input) => {
      if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      return load(input);
    };
    await withWorker(
      fake,
      async (tours) => {
        const handle = temporal.client.workflow.getHandle(tourWorkflowId(k.orgId, k.userId, k.tourId));
        const start = tours.start(k, {}, 'test');
        await until(async () => (await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata').catch(() => undefined))?.currentDetails?.includes('Waiting'));
        // An operator (or a crash past the bound) ends the run while the start waits in it.
        await handle.terminate('operator test');
        down = false;
        const answered = await start;
        expect(answered.state).toMatchObject({ progressId: stored.progressId, currentStepIndex: 1, version: 4 });
        expect(await temporal.client.workflow.count(`WorkflowId = '${handle.workflowId}' AND ExecutionStatus = 'Running'`)).toMatchObject({ count: 1 });
      },
      { TOUR_UPDATE_TIMEOUT_MS: '30000' },
    );
  }, 60_000);

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
        const handle = temporal.client.workflow.getHandle(tourWorkflowId(k.orgId, k.userId, k.tourId));
        const state = await handle.query(tourStateQuery);
        expect(state).toMatchObject({ currentStepIndex: 25, version: 26 });
        const runs = await temporal.client.workflow.count(`WorkflowId = '${handle.workflowId}'`);
        expect(runs.count).toBeGreaterThanOrEqual(3); // 26 updates at 10 per run
        await tours.advance(k, { action: 'complete_tour' }, 'test');
        expect(await handle.result()).toMatchObject({ status: 'completed', version: 27 });
        // Each run flushed before handing over: every transition's events recorded exactly once.
        const versions = fake.writes.flatMap((w) => w.events.filter((e) => e.index === 0).map((e) => e.version));
        expect(versions).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
      },
      { TOUR_CONTINUE_AS_NEW_AFTER_UPDATES: '10' },
    );
  });

  it('loads the version a new run asks for, while a run under way keeps its own (patch tour-versions)', async () => {
    const v1: TourShape = { ...shape(3), version: 1 };
    const v2: TourShape = { tourId: v1.tourId, name: 'Welcome, again', version: 2, steps: [{ key: 'hello', skippable: true }, { key: 'extra', skippable: true }, { key: 'bye', skippable: true }] };
    // A check-in an hour after completion keeps the run open, so the restart meets the run that took v1.
    const fake = fakeActivities(v1, { versions: { 1: v1, 2: v2 }, hub: { checkInAfterMs: [3_600_000] } });
    await withWorker(fake, async (tours) => {
      const k = key(v1);
      const first = await tours.start(k, { run: { version: 1, stepKeys: ['s0', 's1', 's2'] } }, 'test');
      expect(first.state).toMatchObject({ tourVersion: 1, stepKeys: ['s0', 's1', 's2'], totalSteps: 3 });
      // A start asking for version 2 while the run is under way changes nothing.
      const again = await tours.start(k, { run: { version: 2, stepKeys: ['hello', 'bye'] } }, 'test');
      expect(again).toMatchObject({ noop: true, state: { tourVersion: 1, totalSteps: 3 } });
      await tours.advance(k, { action: 'complete_tour' }, 'test');
      const restarted = await tours.start(k, { restart: true, run: { version: 2, stepKeys: ['hello', 'bye'] }, abTest: { testId: crypto.randomUUID(), variant: 'b' } }, 'test');
      expect(restarted.state).toMatchObject({ tourVersion: 2, stepKeys: ['hello', 'bye'], totalSteps: 2, abTest: { variant: 'b' } });
      expect(restarted.events!.every((e) => e.data?.tour_version === 2 && e.data?.ab_test_variant === 'b')).toBe(true);
      expect(fake.loads.map((l) => l.run?.version)).toEqual([1, 2]);
      const history = await temporal.client.workflow.getHandle(tourWorkflowId(k.orgId, k.userId, k.tourId)).fetchHistory();
      const markers = (history.events ?? []).map((e) => e.markerRecordedEventAttributes?.markerName).filter((m) => m === 'core_patch');
      expect(markers).toHaveLength(1);
      const moved = await tours.advance(k, { action: 'next_step', stepKey: 'hello' }, 'test');
      expect(moved.state.currentStepIndex).toBe(1);
    });
  });

  it('takes one rating of a finished tour after the end, and routes it to the hub', async () => {
    const s = shape(2);
    const fake = fakeActivities(s, { integrations: [{ id: crypto.randomUUID(), provider: 'crm', category: 'crm' }] });
    await withWorker(fake, async (tours) => {
      const k = key(s);
      await tours.start(k, {}, 'test');
      await expect(tours.feedback(k, { feedback: { rating: 4 } }, 'test')).rejects.toMatchObject({ code: 'tour_not_finished' });
      await tours.advance(k, { action: 'complete_tour' }, 'test');
      const rated = await tours.feedback(k, { feedback: { rating: 4, feedback: 'Lovely' } }, 'test');
      expect(rated.state).toMatchObject({ status: 'completed', feedback: { rating: 4, feedback: 'Lovely' }, version: 3 });
      expect(rated.events!.map((e) => e.type)).toEqual(['feedback_submitted']);
      await expect(tours.feedback(k, { feedback: { rating: 1 } }, 'test')).rejects.toMatchObject({ code: 'feedback_already_given' });
      for (let i = 0; i < 50 && !fake.planned.some((p) => p.eventType === 'feedback_submitted'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(fake.planned.filter((p) => p.eventType === 'feedback_submitted').map((p) => p.action.method)).toEqual(['addNote']);
    });
  });

  it('replays every recorded history of earlier workflow versions without nondeterminism', async () => {
    const dir = path.join(__dirname, 'histories');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    // Histories recorded before the payload codec are plain, later ones encrypted with the test keyring:
    // the replay reads both through the data converter the worker uses.
    expect(files.filter((f) => encrypted(readHistory(f)))).not.toEqual([]);
    for (const file of files) {
      await replay(file, temporal.dataConverter).catch((err: Error) => {
        // Name the history: the SDK's error only names the event it tripped on.
        throw new Error(`${file} no longer replays (see test/workflows/histories/README.md): ${err.message}`, { cause: err });
      });
    }
  });

  it('cannot replay an encrypted history without the keyring that sealed it', async () => {
    const file = fs.readdirSync(path.join(__dirname, 'histories')).find((f) => f.endsWith('.json') && encrypted(readHistory(f)))!;
    // The workflow task fails on the first payload it cannot open (its failure message is itself encrypted).
    await expect(replay(file, tourDataConverter(testSecretBox(`k9:${Buffer.alloc(32, 3).toString('base64')}`, 'k9')))).rejects.toThrow(/workflow task failure/);
  });
});

function readHistory(file: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'histories', file), 'utf8'));
}

/** True when the history's start event carries a payload of the codec's encoding. */
function encrypted(json: unknown): boolean {
  const started = (json as { events: { workflowExecutionStartedEventAttributes?: { input?: { payloads?: { metadata?: { encoding?: string } }[] } } }[] }).events[0];
  const encoding = started?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.metadata?.encoding;
  return encoding !== undefined && Buffer.from(encoding, 'base64').toString() === ENCRYPTED_ENCODING;
}

function replay(file: string, dataConverter: DataConverter): Promise<void> {
  const history = historyFromJSON(readHistory(file));
  return Worker.runReplayHistory({ workflowBundle: { codePath: testConfig().temporal.workflowBundle! }, dataConverter }, history, file);
}
