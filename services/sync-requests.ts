import type { Client } from '@temporalio/client';
import { translate } from './temporal';

/**
 * The hook between inbound calendar notifications and the sync engine: "this integration changed at the
 * provider, reconcile it". The sync engine's workflow (type `integrationSync`, one per integration, id
 * `sync:{integrationId}`) is started if it is not running and is signalled `syncRequested` either way
 * (signal-with-start), so a burst of notifications for one calendar coalesces into the one running
 * workflow, which decides how often to pull.
 */

/** Workflow type name of the sync engine's per-integration workflow. */
export const SYNC_WORKFLOW_TYPE = 'integrationSync';
/** Signal the sync workflow receives for each request. */
export const SYNC_REQUESTED_SIGNAL = 'syncRequested';

export function syncWorkflowId(integrationId: string): string {
  return `sync:${integrationId.toLowerCase()}`;
}

/** The sync workflow's input when a request starts it. */
export interface SyncWorkflowInput {
  integrationId: string;
}

/** The signal's one argument. */
export interface SyncRequestedSignal {
  reason: string;
  /** ISO time the request was made (the provider's notification arrived). */
  requestedAt: string;
}

export interface SyncRequest {
  integrationId: string;
  /** Why, for the workflow's history: `google_calendar_push`, `microsoft_graph_notification`, ... */
  reason: string;
}

export interface SyncRequestDeps {
  client: Pick<Client, 'workflow'>;
  /** The task queue the sync workflow's worker polls (the tours' queue, TEMPORAL_TASK_QUEUE). */
  taskQueue: string;
  now?: () => number;
}

/** Starts or signals `sync:{integrationId}`. Throws WorkflowServiceError('temporal_unavailable') when Temporal cannot take it. */
export async function requestSync(deps: SyncRequestDeps, req: SyncRequest): Promise<void> {
  const integrationId = req.integrationId.toLowerCase();
  const signal: SyncRequestedSignal = { reason: req.reason, requestedAt: new Date((deps.now ?? Date.now)()).toISOString() };
  try {
    await deps.client.workflow.signalWithStart<(input: SyncWorkflowInput) => Promise<unknown>, [SyncRequestedSignal]>(SYNC_WORKFLOW_TYPE, {
      workflowId: syncWorkflowId(integrationId),
      taskQueue: deps.taskQueue,
      args: [{ integrationId }],
      signal: SYNC_REQUESTED_SIGNAL,
      signalArgs: [signal],
      staticSummary: `Sync of integration ${integrationId}`,
    });
  } catch (err) {
    // Unreachable: a WorkflowServiceError, which the receiver answers 503 so the provider sends again.
    throw translate(err);
  }
}
