import type { Db } from '../db/knex';
import { findProgressFor, rowToState, saveTransition, type RecordedEvent } from '../db/repositories/progress';
import { loadTourShape } from '../db/repositories/tours';
import type { TourShape, TourState } from '../domain/tour-state';

export interface ActivityDeps {
  /** Owner connection: the worker writes on behalf of every organisation, after the API checked access. */
  db: Db;
}

export interface LoadTourInput {
  orgId: string;
  userId: string;
  tourId: string;
}

export interface LoadTourResult {
  shape: TourShape | null;
  progress: TourState | null;
}

export interface PersistTransitionInput {
  workflowId: string;
  state: TourState;
  events: RecordedEvent[];
}

/** Closures over the worker's dependencies, built once in worker.ts. Workflows see only the type. */
export function createActivities(deps: ActivityDeps) {
  return {
    /** Reads the definition and any stored progress, so a re-created workflow resumes from Postgres. */
    async loadTour(input: LoadTourInput): Promise<LoadTourResult> {
      const shape = await loadTourShape(deps.db, input.orgId, input.tourId);
      const row = shape ? await findProgressFor(deps.db, input) : undefined;
      return { shape, progress: row ? rowToState(row) : null };
    },

    /** Idempotent: the same version twice is a no-op, and analytics events are keyed by version. */
    async persistTransition(input: PersistTransitionInput): Promise<{ written: boolean }> {
      return saveTransition(deps.db, input);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
