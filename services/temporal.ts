import { status } from '@grpc/grpc-js';
import {
  Client,
  Connection,
  ServiceError,
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import type { Config } from '../config';
import type { SecretBox } from '../db/secrets';
import {
  advanceTourUpdate,
  startTourUpdate,
  submitFeedbackUpdate,
  TOUR_WORKFLOW_TYPE,
  tourWorkflowId,
  type AdvanceTourArgs,
  type FeedbackArgs,
  type StartTourArgs,
  type TourLifecycleWorkflow,
  type TourUpdateResult,
} from '../workflows/tour-lifecycle/messages';
import { replayDelivery, replayWorkflowId } from '../workflows/delivery-replay';
import { webhookLaneId } from '../workflows/webhook-messages';
import { TourId, TourOrgId, TourUserId } from '../workflows/search-attributes';
import { tourDataConverter } from './payload-codec';
import { temporalConnectionOptions } from './temporal-connection';

export interface TourKey {
  orgId: string;
  userId: string;
  tourId: string;
}

export interface UpdateOptions {
  /**
   * Temporal's update id: a second update with the same id on the same run returns the first one's
   * result instead of applying again (an inbound webhook's copies use their event's key).
   */
  updateId?: string;
}

/** What the tour service asks of Temporal; an interface so API tests can see exactly what was sent. */
export interface TourWorkflows {
  start(key: TourKey, args: StartTourArgs, summary: string, opts?: UpdateOptions): Promise<TourUpdateResult>;
  /**
   * `running` says the stored progress is mid-tour, so its workflow should be open: a plain update is
   * sent, cheaper for the server than update-with-start, which remains the fallback if the run closed.
   */
  advance(key: TourKey, args: AdvanceTourArgs, summary: string, opts?: UpdateOptions & { running?: boolean }): Promise<TourUpdateResult>;
  /** Feedback on a finished tour: to its open run, or with update-with-start if the run has closed. */
  feedback(key: TourKey, args: FeedbackArgs, summary: string): Promise<TourUpdateResult>;
  ping(): Promise<void>;
}

/**
 * Temporal could not take the request: the cluster is unreachable, the tour did not answer in time, or
 * too many updates are in flight on it. Services turn it into a refusal with this code; it says nothing
 * about HTTP (the API maps the codes to 503 and 429, the CLI prints the message).
 */
export class WorkflowServiceError extends Error {
  constructor(
    public readonly code: WorkflowServiceErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const WORKFLOW_SERVICE_ERROR_CODES = ['temporal_unavailable', 'tour_timeout', 'tour_busy'] as const;
export type WorkflowServiceErrorCode = (typeof WORKFLOW_SERVICE_ERROR_CODES)[number];

/** A rejection from the workflow's validator or handler, carrying the domain's code and the state it saw. */
export class TourRejection extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly details: Record<string, unknown>,
    public readonly state: unknown,
  ) {
    super(message);
  }
}

export function createTourWorkflows(client: Client, config: Config): TourWorkflows {
  const send = async (key: TourKey, update: typeof startTourUpdate | typeof advanceTourUpdate | typeof submitFeedbackUpdate, args: unknown, summary: string, opts?: UpdateOptions) => {
    const run = update === startTourUpdate ? (args as StartTourArgs).run : undefined;
    const workflowId = tourWorkflowId(key.orgId, key.userId, key.tourId);
    const attempt = () =>
      client.workflow.executeUpdateWithStart(update as typeof startTourUpdate, {
        args: [args as StartTourArgs],
        ...(opts?.updateId ? { updateId: opts.updateId } : {}),
        startWorkflowOperation: new WithStartWorkflowOperation<TourLifecycleWorkflow>(TOUR_WORKFLOW_TYPE, {
          workflowId,
          taskQueue: config.temporal.taskQueue,
          args: [{ ...key, continueAsNewAfterUpdates: config.tours.continueAsNewAfterUpdates, dbOutageMaxWaitMs: config.tours.dbOutageMaxWaitMs, ...(run ? { run } : {}) }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          staticSummary: summary,
          typedSearchAttributes: [
            { key: TourOrgId, value: key.orgId },
            { key: TourId, value: key.tourId },
            { key: TourUserId, value: key.userId },
          ],
        }),
      });
    try {
      return await withDeadline(client, config.tours.updateTimeoutMs, attempt);
    } catch (err) {
      const translated = translate(err);
      if (!(translated instanceof RunClosedMidUpdate)) throw translated;
    }
    // The run this update was accepted by closed before answering (it failed, or was terminated). Its
    // progress is in Postgres up to its last flush: update-with-start re-creates the run from there, so
    // the client's retry lands on the same progress, not on a second one.
    try {
      return await withDeadline(client, config.tours.updateTimeoutMs, attempt);
    } catch (err) {
      const translated = translate(err);
      if (translated instanceof RunClosedMidUpdate) throw new WorkflowServiceError('tour_timeout', 'The tour did not answer in time; try again');
      throw translated;
    }
  };
  const update = async (key: TourKey, args: AdvanceTourArgs, opts?: UpdateOptions) => {
    const handle = client.workflow.getHandle(tourWorkflowId(key.orgId, key.userId, key.tourId));
    try {
      return await withDeadline(client, config.tours.updateTimeoutMs, () => handle.executeUpdate(advanceTourUpdate, { args: [args], ...(opts?.updateId ? { updateId: opts.updateId } : {}) }));
    } catch (err) {
      throw translate(err);
    }
  };
  return {
    start: (key, args, summary, opts) => send(key, startTourUpdate, args, summary, opts),
    async advance(key, args, summary, opts) {
      if (opts?.running) {
        try {
          return await update(key, args, opts);
        } catch (err) {
          // The run closed after the row was read (or was never started here), or closed while this
          // update waited in it: start it again from Postgres.
          if (!(err instanceof WorkflowNotFoundError) && !(err instanceof RunClosedMidUpdate)) throw err;
        }
      }
      return send(key, advanceTourUpdate, args, summary, opts);
    },
    feedback: (key, args, summary) => send(key, submitFeedbackUpdate, args, summary),
    async ping() {
      await client.connection.workflowService.getSystemInfo({});
    },
  };
}

function withDeadline<T>(client: Client, ms: number, fn: () => Promise<T>): Promise<T> {
  return client.connection.withDeadline(Date.now() + ms, fn);
}

/**
 * The server's answer to an update whose run completed (failed, was terminated) after accepting it and
 * before answering: not a refusal of the move, so never shown to a client as one.
 */
const ACCEPTED_UPDATE_COMPLETED_WORKFLOW = 'AcceptedUpdateCompletedWorkflow';

class RunClosedMidUpdate extends Error {}

/** gRPC statuses that mean "the service could not take this now", not "this request is wrong". */
const UNAVAILABLE_STATUSES: readonly number[] = [status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.ABORTED, status.INTERNAL, status.UNKNOWN, status.CANCELLED];

/** A Temporal client call that failed because the cluster is unreachable or overloaded (any route may meet one). */
export function isTemporalUnavailable(err: unknown): boolean {
  if (err instanceof WorkflowServiceError) return err.code === 'temporal_unavailable';
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ServiceError) {
      const code = grpcStatus(e);
      return code === undefined || UNAVAILABLE_STATUSES.includes(code);
    }
  }
  return false;
}

/** A Temporal client error as the services see it: a TourRejection, a WorkflowServiceError, or the error itself. */
export function translate(err: unknown): unknown {
  const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
  if (cause instanceof ApplicationFailure && cause.type === ACCEPTED_UPDATE_COMPLETED_WORKFLOW) return new RunClosedMidUpdate(cause.message);
  if (cause instanceof ApplicationFailure && cause.type) {
    const [details, state] = (cause.details ?? []) as [Record<string, unknown> | undefined, unknown];
    return new TourRejection(cause.type, cause.message, details ?? {}, state ?? null);
  }
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new WorkflowServiceError('tour_timeout', 'The tour did not answer in time; try again');
  }
  const grpcCode = grpcStatus(err);
  // RESOURCE_EXHAUSTED: too many updates in flight on this one tour (history.maxInFlightUpdates).
  if (grpcCode === status.RESOURCE_EXHAUSTED) {
    return new WorkflowServiceError('tour_busy', 'Too many changes to this tour at once; retry shortly');
  }
  if (grpcCode !== undefined && UNAVAILABLE_STATUSES.includes(grpcCode)) {
    return new WorkflowServiceError('temporal_unavailable', 'The workflow service is unavailable; retry shortly');
  }
  return err;
}

function grpcStatus(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/**
 * A client as the API and the CLI use it: connected with the deployment's TLS and API key, and with the
 * data converter that encrypts every payload under the credentials' keyring (`box`).
 */
export async function connectTemporal(config: Config, box: SecretBox): Promise<Client> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  return new Client({ connection, namespace: config.temporal.namespace, dataConverter: tourDataConverter(box, { encrypt: config.temporal.encryptPayloads }) });
}

/** What replaying dead deliveries asks of Temporal (the API's replay routes and `tourhub replay`). */
export interface DeliveryReplays {
  /**
   * Starts the replay of one delivery, or joins the one already running for it (a double click sends
   * nothing twice). Returns at once; the replay's outcome lands in the delivery's row.
   */
  replay(deliveryId: string, summary: string): Promise<{ workflowId: string; runId: string }>;
}

export function createDeliveryReplays(client: Client, config: Config): DeliveryReplays {
  return {
    async replay(deliveryId, summary) {
      try {
        const handle = await client.workflow.start(replayDelivery, {
          workflowId: replayWorkflowId(deliveryId),
          taskQueue: config.temporal.taskQueue,
          args: [{ deliveryId, dbOutageMaxWaitMs: config.tours.dbOutageMaxWaitMs }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          staticSummary: summary,
        });
        return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
      } catch (err) {
        // An unreachable server is a WorkflowServiceError: the replay service refuses with its code.
        throw translate(err);
      }
    },
  };
}

/** What erasing a person asks of Temporal (the privacy API). */
export interface UserWorkflows {
  /**
   * Terminates and deletes (history and visibility) every run of the person's workflows: the tour
   * workflows of `tourIds` in their organisation, any other run the visibility store lists under their
   * TourOrgId and TourUserId, and the replays of `deliveryIds`. Returns the executions deleted. Deletion
   * is asynchronous on the server: the list may show a run for a moment after.
   */
  erase(key: { orgId: string; userId: string }, tourIds: readonly string[], deliveryIds: readonly string[], subscriptionIds?: readonly string[]): Promise<{ deleted: number }>;
}

export function createUserWorkflows(client: Client, config: Config): UserWorkflows {
  const namespace = config.temporal.namespace;
  const ignoreMissing = (err: unknown) => {
    if (err instanceof WorkflowNotFoundError || grpcStatus(err) === status.NOT_FOUND) return;
    throw err;
  };
  /** Terminates the running run of `workflowId` (synchronous: no workflow task runs after it); already closed or unknown is fine. */
  const terminate = async (workflowId: string): Promise<void> => {
    try {
      await client.workflow.getHandle(workflowId).terminate('erased at the request of the person (GDPR)');
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) && grpcStatus(err) !== status.NOT_FOUND && grpcStatus(err) !== status.FAILED_PRECONDITION) throw err;
    }
  };
  /** The latest run of `workflowId`, if it has one. */
  const latestRun = async (workflowId: string): Promise<{ workflowId: string; runId: string } | undefined> => {
    try {
      const d = await client.workflow.getHandle(workflowId).describe();
      return { workflowId, runId: d.runId };
    } catch (err) {
      ignoreMissing(err);
      return undefined;
    }
  };
  /** Deletes one run, history and visibility (asynchronously on the server). Each run is asked once: a second request for a run being deleted can leave its visibility record behind. */
  const remove = async (run: { workflowId: string; runId: string }): Promise<boolean> => {
    try {
      await client.workflowService.deleteWorkflowExecution({ namespace, workflowExecution: run });
      return true;
    } catch (err) {
      ignoreMissing(err);
      return false;
    }
  };
  const list = async (query: string) => {
    const runs: { workflowId: string; runId: string }[] = [];
    for await (const wf of client.workflow.list({ query })) runs.push({ workflowId: wf.workflowId, runId: wf.runId });
    return runs;
  };
  const quoted = (ids: readonly string[]) => ids.map((id) => `'${id.replace(/'/g, '')}'`).join(', ');
  return {
    async erase(key, tourIds, deliveryIds, subscriptionIds = []) {
      try {
        const tours = tourIds.map((tourId) => tourWorkflowId(key.orgId, key.userId, tourId));
        const ids = [
          ...tours,
          ...deliveryIds.map((id) => replayWorkflowId(id)),
          // A tour's webhook lanes (one per subscription) are named after its run: the id names the person.
          ...subscriptionIds.flatMap((sub) => tours.map((tour) => webhookLaneId(sub, tour))),
        ];
        for (const id of ids) await terminate(id);
        // Runs by the person's search attributes (earlier runs continued as new, tours the ids missed),
        // by id, and the latest of each id (the visibility store may not list a run started a moment ago).
        const runs = await list(`TourOrgId = '${key.orgId}' AND TourUserId = '${key.userId}'`);
        for (let i = 0; i < ids.length; i += 100) runs.push(...(await list(`WorkflowId IN (${quoted(ids.slice(i, i + 100))})`)));
        for (const id of ids) {
          const run = await latestRun(id);
          if (run) runs.push(run);
        }
        // A run listed but still running (started after the terminations above) is terminated by the delete.
        const unique = new Map(runs.map((r) => [r.runId, r]));
        let deleted = 0;
        for (const run of unique.values()) if (await remove(run)) deleted++;
        return { deleted };
      } catch (err) {
        throw translate(err);
      }
    },
  };
}
