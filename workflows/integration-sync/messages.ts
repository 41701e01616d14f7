/**
 * Everything a caller needs to drive an integration's two-way sync: its workflow type and id, input,
 * signal and query. The API (a resync, a resolved conflict), the schedule's tick and inbound provider
 * notifications (Google push, Graph change notifications) import this file and nothing else of it.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { DeliveryRetry, PlannedDelivery } from '../../domain/hub';

/** The workflow type, as registered by the worker (workflows/index.ts exports it under this name). */
export const SYNC_WORKFLOW_TYPE = 'integrationSync';

/** One integration's sync: the id in canonical lower case, so every caller reaches the same run. */
export function syncWorkflowId(integrationId: string): string {
  return `sync:${integrationId.toLowerCase()}`;
}

/** The Temporal Schedule that asks for a pass every SYNC_INTERVAL. */
export function syncScheduleId(integrationId: string): string {
  return `sync-schedule:${integrationId.toLowerCase()}`;
}

/** The schedule's action: a short workflow that hands the request to `sync:{integrationId}` (workflows/integration-sync/tick.ts). */
export const SYNC_TICK_WORKFLOW_TYPE = 'syncTick';
export function syncTickWorkflowId(integrationId: string): string {
  return `sync-tick:${integrationId.toLowerCase()}`;
}

/** Why a pass is wanted. Requests that arrive while one runs are folded into the next pass. */
export interface SyncRequest {
  /** `schedule`, `resync`, `conflict_resolved`, `google_calendar_push`, `microsoft_graph_notification` (for the run's row and the UI). */
  reason: string;
  /** Compare every record, not only what changed (an organisation's resync). */
  full?: boolean;
  /** The sync_runs row an API resync asks this pass to report in (written by whichever side comes first). */
  runId?: string;
  /** The organisation's resync it belongs to. */
  resyncId?: string;
}

/** Sent by whoever wants a pass (signal-with-start: the run may not exist yet). */
export const syncRequestedSignal = defineSignal<[SyncRequest]>('syncRequested');

export interface SyncWorkflowInput {
  integrationId: string;
  /** A request to act on at once (the tick starts the workflow with it rather than signalling). */
  request?: SyncRequest;
  /** Set only by continue-as-new. */
  carried?: SyncCarried;
}

/** Figures of one pass, as the run's row and the workflow's details show them. */
export interface SyncCounts {
  pages: number;
  pulled: number;
  compared: number;
  pushed: number;
  accepted: number;
  conflicts: number;
}

export type SyncPhase = 'pull' | 'compare' | 'resolve' | 'done';

/** A pass in progress, carried across continue-as-new. */
export interface SyncPass {
  runId: string;
  organizationId: string;
  /** The provider whose queue reads go on. */
  provider: string;
  /** How this pass's pushes retry (HUB_RETRY_*), as when the pass began. */
  retry: DeliveryRetry;
  full: boolean;
  reasons: string[];
  phase: SyncPhase;
  /** Pull: where the provider's next page starts, and the cursor the pass started from. */
  cursor: string | null;
  page: string | null;
  /** Set once the last page is read: where the next pass starts. */
  nextCursor: string | null;
  /** Compare: where the next batch starts (priority and key of the last record compared). */
  after: { priority: number; key: string } | null;
  counts: SyncCounts;
  /** Pushes planned and not yet sent, in order. */
  pending: PlannedDelivery[];
  startedAt: number;
}

export interface SyncCarried {
  queue: SyncRequest[];
  pass?: SyncPass;
  passes: number;
}

/** What the details and the query show: the pass in progress, and the last one. */
export interface SyncProgress {
  integrationId: string;
  current: { runId: string; phase: SyncPhase; full: boolean; counts: SyncCounts; pendingPushes: number } | null;
  queued: number;
  passes: number;
}

export const syncProgressQuery = defineQuery<SyncProgress>('syncProgress');

/** The workflow's signature, for callers that start it by type name. */
export type IntegrationSyncWorkflow = (input: SyncWorkflowInput) => Promise<{ passes: number }>;
