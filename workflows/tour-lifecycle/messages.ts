/**
 * Everything a caller needs to drive a tour's workflow: its id, input, updates, query and results. The
 * API, the CLI and the benchmarks import this file and nothing else of the workflow, so the workflow's
 * internals can change without touching them.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RecordedEvent } from '../../domain/events';
import { assertCanonicalUuids } from '../../domain/ids';
import type { FollowUp } from '../../domain/follow-ups';
import type { HubEventDraft, HubSettings, PlannedDelivery } from '../../domain/hub';
import type { AdvanceCommand, FeedbackCommand, StartCommand, TourRun, TourShape, TourState } from '../../domain/tour-state';

/** The workflow type, as registered by the worker (workflows/index.ts exports it under this name). */
export const TOUR_WORKFLOW_TYPE = 'tourLifecycle';

/**
 * One user's run through one tour. Ids must be canonical (lower case): the id is a string to Temporal,
 * so another spelling of the same ids would be a second workflow for the same progress row.
 */
export function tourWorkflowId(orgId: string, userId: string, tourId: string): string {
  assertCanonicalUuids('tourWorkflowId', { orgId, userId, tourId });
  return `tour:${orgId}:${userId}:${tourId}`;
}

export interface TourWorkflowInput {
  orgId: string;
  userId: string;
  tourId: string;
  /** Continue-as-new after this many accepted updates, well before the server's 2000-update limit. */
  continueAsNewAfterUpdates?: number;
  /** How long the run waits out a Postgres outage before giving up (DB_OUTAGE_MAX_WAIT; default 6 h). */
  dbOutageMaxWaitMs?: number;
  /**
   * The run the start that creates this workflow asks for, so the first load reads that version and
   * those steps (a run stored in progress keeps its own). Absent for runs started before versions.
   */
  run?: TourRun;
  /** Set only by continue-as-new: the state, the frozen definition and the hub's work, carried into the new run. */
  carried?: TourCarried;
}

export interface TourCarried {
  state: TourState;
  shape: TourShape;
  hub: HubCarried;
}

/** What the hub carries across continue-as-new: nothing planned, booked or owed is dropped. */
export interface HubCarried {
  settings: HubSettings;
  followUps: FollowUp[];
  /** Events not yet planned into deliveries. */
  unplanned: HubEventDraft[];
  /** Deliveries not yet finished, in order per integration (an in-flight one is sent again, same key). */
  pending: PlannedDelivery[];
  delivered: number;
  dead: DeadDelivery[];
}

/** A delivery that ran out of retries, as the workflow's details list it. */
export interface DeadDelivery {
  idempotencyKey: string;
  summary: string;
  /** The failure's code (`invalid_request`, `timed_out`), never the provider's message: see deathCode. */
  reason: string;
}

/** The workflow's signature, for callers that start it by type name. */
export type TourLifecycleWorkflow = (input: TourWorkflowInput) => Promise<TourState | null>;

export interface TourUpdateResult {
  state: TourState;
  /** True when the command changed nothing (a repeated start). */
  noop: boolean;
  /**
   * The analytics events of this transition, keyed by version and index. The caller writes them with the
   * state (read-your-writes for its client); the workflow writes them too, later, which is a no-op then.
   */
  events: RecordedEvent[];
}

export type StartTourArgs = Omit<StartCommand, 'kind'>;
export type AdvanceTourArgs = Omit<AdvanceCommand, 'kind'>;
export type FeedbackArgs = Omit<FeedbackCommand, 'kind'>;

export const startTourUpdate = defineUpdate<TourUpdateResult, [StartTourArgs]>('startTour');
export const advanceTourUpdate = defineUpdate<TourUpdateResult, [AdvanceTourArgs]>('advanceTour');
/** A rating of a finished tour, after the fact: once, and routed to the hub's feedback_submitted. */
export const submitFeedbackUpdate = defineUpdate<TourUpdateResult, [FeedbackArgs]>('submitFeedback');
export const tourStateQuery = defineQuery<TourState | null>('tourState');

/** Failure type for a tour whose definition is gone (deleted, or never in this organisation). */
export const TOUR_NOT_FOUND = 'tour_not_found';
