/**
 * Records histories of the tour workflow as the current code runs it, for the replay test
 * (test/workflows/tour-lifecycle.test.ts). Self-contained: it starts its own headless Temporal dev
 * server, a tour worker with the test fakes for Postgres, and one worker per fake provider, then drives
 * eight scenarios through the API's own workflow client and writes each run's history here as
 * `<set>-<scenario>.json`. Clients and workers encrypt payloads with the payload codec as in production,
 * under the test suites' fixed keyring (test/support/stack.ts TEST_KEYRING), so the replay test can read
 * them with that keyring:
 *
 *   journey          start, next, abandonment by the inactivity timer, resume, skip, previous, a stale
 *                    move (rejected), completion with feedback and subscription interest; deliveries on
 *                    four providers, one retried after a 503 and one dead after a 400; both check-ins.
 *   rollover-1, -2   continue-as-new after 10 updates, the completing one last: the first run hands over
 *                    its unfinished deliveries and check-in timers, the second sends and fires them.
 *   postgres-down    planning and flushing fail past their local retries, wait, and succeed later.
 *   load-outage      loading the tour fails past its local retries while the start waits in the run;
 *                    the run waits out the outage (the wait-out-database-outages patch) and answers.
 *   breaker          the CRM's circuit breaker holds its calls back for 2.5 s: its lane waits on timers
 *                    (the `circuit-breaker` patch) and sends them in order once it closes.
 *   not-found        a start for a tour that does not exist: rejected, and the run ends.
 *   versions         a run on published version 1 to completion, then a restart that asks for version 2
 *                    (with an A/B variant) in the same open run: the `tour-versions` patch loads it.
 *   feedback-1, -2   a rating after the end, to the open run (its check-in re-booked under the new
 *                    version), then a second run made by update-with-start for feedback on a closed run
 *                    (refused: rated already) and the run ends.
 *
 * Usage (about a minute, mostly the timers and the postgres-down waits):
 *   export TEMPORAL_CLI_PATH=...   # or a CLI in .tools, as for the tests
 *   npx tsx test/workflows/histories/record.ts <set> [scenario...]   # all four unless scenarios are named
 * See README.md in this folder for when to record a new set.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Activities } from '../../../activities';
import type { DeliveryResult } from '../../../activities/deliver';
import { createTourWorkflows, type TourKey, type TourWorkflows } from '../../../services/temporal';
import { findTemporalCli, startDevServer } from '../../../cli/temporal';
import { loadConfig } from '../../../config';
import type { DeliveryInput, HubSettings } from '../../../domain/hub';
import type { TourShape } from '../../../domain/tour-state';
import { providerTaskQueue } from '../../../workflows/task-queues';
import { tourWorkflowId } from '../../../workflows/tour-lifecycle/messages';
import { tourDataConverter } from '../../../services/payload-codec';
import { fakeActivities, type FakeIntegration } from '../../support/fake-activities';
import { testSecretBox } from '../../support/stack';
import { freePort } from '../../support/ports';

const repo = path.resolve(__dirname, '..', '..', '..');
/** The test keyring's active key: the replay test opens these histories with the same keyring. */
const dataConverter = tourDataConverter(testSecretBox());

/** The fake providers, shared by every scenario: the CRM fails a tour's first start once, the email provider refuses every upsert. */
const INTEGRATIONS: FakeIntegration[] = [
  { id: crypto.randomUUID(), provider: 'rec-crm', category: 'crm', settings: { field_mapping: { tour_rating: 'cf_rating' } } },
  { id: crypto.randomUUID(), provider: 'rec-calendar', category: 'calendar' },
  { id: crypto.randomUUID(), provider: 'rec-email', category: 'email' },
  { id: crypto.randomUUID(), provider: 'rec-payment', category: 'payment' },
];

/** Set by the breaker scenario: until then the CRM's breaker holds every call back (circuit_open, nothing sent). */
let crmPausedUntil = 0;

async function deliver(input: DeliveryInput): Promise<DeliveryResult> {
  const { attempt, taskQueue } = Context.current().info;
  if (taskQueue === providerTaskQueue('rec-crm') && Date.now() < crmPausedUntil) {
    throw ApplicationFailure.create({ type: 'circuit_open', message: 'paused', nonRetryable: true, details: [{ retryAt: crmPausedUntil, probeIntervalMs: 1_000 }] });
  }
  if (taskQueue === providerTaskQueue('rec-crm') && input.eventType === 'tour_started' && attempt === 1) {
    throw ApplicationFailure.create({ type: 'provider_unavailable', message: '503 from the CRM' });
  }
  if (taskQueue === providerTaskQueue('rec-email') && input.action.method === 'upsertSubscriber') {
    throw ApplicationFailure.create({ type: 'invalid_request', message: '400 merge field missing', nonRetryable: true });
  }
  return { reference: `${taskQueue}-ref`, alreadyDelivered: false };
}

const tourShape = (steps: number): TourShape => ({
  tourId: crypto.randomUUID(),
  name: 'Welcome to your wedding dashboard',
  steps: Array.from({ length: steps }, (_, i) => ({ key: `step-${i + 1}`, skippable: true })),
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const VERSION_1 = tourShape(3);
const VERSION_2: TourShape = { ...VERSION_1, name: 'Welcome, version 2', steps: [{ key: 'hello', skippable: true }, { key: 'extra', skippable: true }, { key: 'bye', skippable: true }] };

interface Scenario {
  name: string;
  shape: TourShape | null;
  versions?: Record<number, TourShape>;
  hub?: Partial<HubSettings>;
  env?: Record<string, string>;
  /** Wraps the fakes, e.g. to make Postgres fail. */
  activities?: (fake: Activities) => Activities;
  /** Drives the tour; returns the run ids to record, oldest first (default: the latest run). */
  drive(tours: TourWorkflows, key: TourKey, handle: WorkflowHandle): Promise<string[] | void>;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'journey',
    shape: tourShape(3),
    hub: { abandonAfterMs: 1_500, reengageAfterMs: 60_000, checkInAfterMs: [1_000, 2_000], checkInLeadMs: 0 },
    async drive(tours, key, handle) {
      await tours.start(key, { deviceType: 'mobile' }, 'recorded for the replay test');
      await tours.advance(key, { action: 'next_step', interactionTimeMs: 1200 }, '');
      await pause(2_500); // idle past the inactivity period: the workflow abandons the tour itself
      await tours.start(key, {}, ''); // resume: cancels the re-engagement
      await tours.advance(key, { action: 'skip_step' }, '');
      await tours.advance(key, { action: 'previous_step' }, '');
      await tours.advance(key, { action: 'next_step', expectedVersion: 1 }, '').then(
        () => Promise.reject(new Error('a stale move was accepted')),
        () => undefined,
      );
      await tours.advance(key, { action: 'complete_tour', feedback: { rating: 5, wasHelpful: true }, subscriptionInterest: { plan: 'premium' } }, '');
      await handle.result();
    },
  },
  {
    name: 'rollover',
    shape: tourShape(10),
    hub: { checkInAfterMs: [1_000, 2_000], checkInLeadMs: 0 },
    env: { TOUR_CONTINUE_AS_NEW_AFTER_UPDATES: '10' },
    async drive(tours, key, handle) {
      await tours.start(key, {}, 'recorded for the replay test');
      const { runId } = await handle.describe();
      for (let i = 0; i < 8; i++) await tours.advance(key, { action: 'next_step' }, '');
      // The tenth update: the run rolls over with the completion's deliveries and check-ins still owed.
      await tours.advance(key, { action: 'complete_tour', feedback: { rating: 4 }, subscriptionInterest: { plan: 'premium' } }, '');
      await handle.result();
      const last = await handle.describe();
      if (last.runId === runId) throw new Error('the run did not continue as new');
      return [runId, last.runId];
    },
  },
  {
    name: 'postgres-down',
    shape: tourShape(2),
    activities(fake) {
      let planningFailures = 7; // more than the local activity's six attempts
      return {
        ...fake,
        async planDeliveries(input) {
          if (planningFailures-- > 0) throw new Error('database is down');
          return fake.planDeliveries(input);
        },
      };
    },
    async drive(tours, key, handle) {
      await tours.start(key, {}, 'recorded for the replay test');
      await tours.advance(key, { action: 'next_step' }, '');
      failPersistence(7);
      await tours.advance(key, { action: 'complete_tour' }, '');
      await handle.result();
    },
  },
  {
    name: 'versions',
    shape: { ...VERSION_1, version: 1 },
    versions: { 1: VERSION_1, 2: VERSION_2 },
    hub: { checkInAfterMs: [2_000], checkInLeadMs: 0 },
    async drive(tours, key, handle) {
      await tours.start(key, { run: { version: 1, stepKeys: VERSION_1.steps.map((s) => s.key) } }, 'recorded for the replay test');
      await tours.advance(key, { action: 'next_step' }, '');
      await tours.advance(key, { action: 'complete_tour' }, '');
      // The check-in keeps the run open: the restart meets the run that took version 1.
      await tours.start(key, { restart: true, run: { version: 2, stepKeys: ['hello', 'bye'] }, abTest: { testId: crypto.randomUUID(), variant: 'b' } }, '');
      await tours.advance(key, { action: 'next_step' }, '');
      await tours.advance(key, { action: 'next_step' }, '');
      await handle.result();
    },
  },
  {
    name: 'feedback',
    shape: tourShape(2),
    hub: { checkInAfterMs: [1_500], checkInLeadMs: 0 },
    async drive(tours, key, handle) {
      await tours.start(key, {}, 'recorded for the replay test');
      await tours.advance(key, { action: 'complete_tour' }, '');
      await tours.feedback(key, { feedback: { rating: 4, feedback: 'Lovely', wasHelpful: true } }, '');
      const { runId } = await handle.describe();
      await handle.result();
      // The run has closed: feedback re-creates it from Postgres, which the fakes say is rated already.
      await tours.feedback(key, { feedback: { rating: 2 } }, '').then(
        () => Promise.reject(new Error('a second rating was accepted')),
        () => undefined,
      );
      await handle.result();
      const last = await handle.describe();
      return [runId, last.runId];
    },
  },
  {
    name: 'load-outage',
    shape: tourShape(2),
    activities(fake) {
      let loadFailures = 8; // more than the local activity's six attempts: the run waits, then tries again
      return {
        ...fake,
        async loadTour(input) {
          if (loadFailures-- > 0) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
          return fake.loadTour(input);
        },
      };
    },
    env: { TOUR_UPDATE_TIMEOUT_MS: '30000' },
    async drive(tours, key, handle) {
      await tours.start(key, {}, 'recorded for the replay test');
      await tours.advance(key, { action: 'complete_tour' }, '');
      await handle.result();
    },
  },
  {
    name: 'breaker',
    shape: tourShape(2),
    async drive(tours, key, handle) {
      crmPausedUntil = Date.now() + 2_500;
      await tours.start(key, {}, 'recorded for the replay test');
      await tours.advance(key, { action: 'complete_tour' }, '');
      await handle.result();
      crmPausedUntil = 0;
    },
  },
  {
    name: 'not-found',
    shape: null,
    async drive(tours, key, handle) {
      await tours.start(key, {}, 'recorded for the replay test').then(
        () => Promise.reject(new Error('a missing tour was started')),
        () => undefined,
      );
      await handle.result();
    },
  },
];

/** Set per scenario: makes the next n progress writes fail. */
let failPersistence: (n: number) => void = () => undefined;

async function main(): Promise<void> {
  const [set, ...only] = process.argv.slice(2);
  if (!set || !/^[a-z0-9-]+$/.test(set)) throw new Error('usage: record.ts <set> [scenario...] (set: lower case, digits and dashes)');
  const unknown = only.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`unknown scenarios ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const scenarios = only.length > 0 ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS;
  // The scenarios fail activities on purpose: the worker's warnings about them are expected noise.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const binary = await findTemporalCli({ cliPath: process.env.TEMPORAL_CLI_PATH, toolsDir: path.join(repo, '.tools') });
  const server = await startDevServer({ binary, port: await freePort(), headless: true });
  const native = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, dataConverter });
  const providers = await Promise.all(
    INTEGRATIONS.map((i) => Worker.create({ connection: native, taskQueue: providerTaskQueue(i.provider), dataConverter, activities: { deliver } })),
  );
  const providersRunning = providers.map((w) => w.run());
  try {
    for (const scenario of scenarios) await record(scenario, set, client, native, server.address);
  } finally {
    for (const w of providers) w.shutdown();
    await Promise.all(providersRunning);
    await connection.close();
    await native.close();
    await server.stop();
  }
}

async function record(scenario: Scenario, set: string, client: Client, native: NativeConnection, address: string): Promise<void> {
  const taskQueue = `record-${scenario.name}`;
  const config = loadConfig({ TOURHUB_ENV: 'test', TEMPORAL_ADDRESS: address, TEMPORAL_TASK_QUEUE: taskQueue, ...scenario.env });
  const fake = fakeActivities(scenario.shape, { integrations: INTEGRATIONS, ...(scenario.hub ? { hub: scenario.hub } : {}), ...(scenario.versions ? { versions: scenario.versions } : {}) });
  failPersistence = fake.failNext;
  const worker = await Worker.create({
    connection: native,
    taskQueue,
    workflowsPath: require.resolve(path.join(repo, 'workflows')),
    dataConverter,
    activities: scenario.activities ? scenario.activities(fake.activities) : fake.activities,
  });
  const key = { orgId: crypto.randomUUID(), userId: crypto.randomUUID(), tourId: scenario.shape?.tourId ?? crypto.randomUUID() };
  const handle = client.workflow.getHandle(tourWorkflowId(key.orgId, key.userId, key.tourId));
  const runIds = await worker.runUntil(scenario.drive(createTourWorkflows(client, config), key, handle));
  const runs = runIds ?? [(await handle.describe()).runId];
  for (const [i, runId] of runs.entries()) {
    const history = await client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
    const name = runs.length > 1 ? `${set}-${scenario.name}-${i + 1}` : `${set}-${scenario.name}`;
    const file = path.join(__dirname, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 1) + '\n');
    process.stdout.write(`wrote ${path.relative(repo, file)} (${history.events?.length} events)\n`);
  }
  process.stdout.write(`  ${scenario.name}: ${fake.planned.length} deliveries planned, ${fake.deadMarks.length} dead, ${fake.writes.length} progress writes\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
