import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { getExternalWorkflowHandle, isCancellation, ParentClosePolicy, startChild } from '@temporalio/workflow';
import { SYNC_WORKFLOW_TYPE, syncRequestedSignal, syncWorkflowId, type IntegrationSyncWorkflow, type SyncRequest } from './messages';

/**
 * The action of an integration's Temporal Schedule (`sync-schedule:{integrationId}`, every SYNC_INTERVAL):
 * a Schedule can only start workflows, and appends the time to their ids, so it cannot signal the
 * integration's long-lived `sync:{integrationId}` itself. This short workflow does: it starts that run
 * (abandoned, so it outlives the tick) with the request, or, if one is running, signals it. Between the
 * two the run may close; the loop then starts it again.
 */
export async function syncTick(input: { integrationId: string; request?: SyncRequest }): Promise<void> {
  const request = input.request ?? { reason: 'schedule' };
  const workflowId = syncWorkflowId(input.integrationId);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await startChild<IntegrationSyncWorkflow>(SYNC_WORKFLOW_TYPE, {
        workflowId,
        args: [{ integrationId: input.integrationId, request }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      return;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    try {
      await getExternalWorkflowHandle(workflowId).signal(syncRequestedSignal, request);
      return;
    } catch (err) {
      if (isCancellation(err)) throw err;
      // It closed between the two: start it again.
    }
  }
}
