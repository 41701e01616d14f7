import type { Knex } from 'knex';
import type { RecordedEvent } from '../../domain/events';
import type { DeviceType, ProgressStatus, TourState } from '../../domain/tour-state';

export interface ProgressRow {
  id: string;
  user_id: string;
  organization_id: string;
  tour_id: string;
  status: ProgressStatus;
  current_step_index: number;
  completed_steps: number[];
  skipped_steps: number[];
  total_steps: number;
  version: number;
  workflow_id: string;
  started_at: Date | null;
  completed_at: Date | null;
  last_interaction_at: Date | null;
  total_time_seconds: number;
  user_rating: number | null;
  feedback: string | null;
  was_helpful: boolean | null;
  device_type: DeviceType | null;
  user_agent: string | null;
  viewport_size: { width: number; height: number } | null;
  tour_version: number | null;
  step_keys: string[] | null;
  ab_test_id: string | null;
  ab_variant: 'a' | 'b' | null;
  created_at: Date;
  updated_at: Date;
}

export const PROGRESS_COLUMNS = [
  'id', 'user_id', 'organization_id', 'tour_id', 'status', 'current_step_index', 'completed_steps',
  'skipped_steps', 'total_steps', 'version', 'workflow_id', 'started_at', 'completed_at',
  'last_interaction_at', 'total_time_seconds', 'user_rating', 'feedback', 'was_helpful', 'device_type',
  'user_agent', 'viewport_size', 'tour_version', 'step_keys', 'ab_test_id', 'ab_variant', 'created_at', 'updated_at',
] as const;

export async function findProgressById(db: Knex, id: string): Promise<ProgressRow | undefined> {
  return db('user_tour_progress').select(PROGRESS_COLUMNS).where({ id }).first() as Promise<ProgressRow | undefined>;
}

export async function findProgressFor(
  db: Knex,
  key: { orgId: string; userId: string; tourId: string },
): Promise<ProgressRow | undefined> {
  return db('user_tour_progress')
    .select(PROGRESS_COLUMNS)
    .where({ organization_id: key.orgId, user_id: key.userId, tour_id: key.tourId })
    .first() as Promise<ProgressRow | undefined>;
}

export function rowToState(row: ProgressRow): TourState {
  return {
    progressId: row.id,
    orgId: row.organization_id,
    userId: row.user_id,
    tourId: row.tour_id,
    status: row.status,
    currentStepIndex: row.current_step_index,
    completedSteps: row.completed_steps,
    skippedSteps: row.skipped_steps,
    totalSteps: row.total_steps,
    version: row.version,
    startedAt: row.started_at?.toISOString() ?? null,
    completedAt: row.completed_at?.toISOString() ?? null,
    lastInteractionAt: row.last_interaction_at?.toISOString() ?? null,
    // Whole seconds are what the table keeps; sub-second remainders of past sessions are not worth a column.
    totalTimeMs: row.total_time_seconds * 1000,
    feedback: {
      ...(row.user_rating !== null ? { rating: row.user_rating } : {}),
      ...(row.feedback !== null ? { feedback: row.feedback } : {}),
      ...(row.was_helpful !== null ? { wasHelpful: row.was_helpful } : {}),
    },
    deviceType: row.device_type,
    viewportSize: row.viewport_size,
    tourVersion: row.tour_version,
    stepKeys: row.step_keys,
    abTest: row.ab_test_id && row.ab_variant ? { testId: row.ab_test_id, variant: row.ab_variant } : null,
  };
}

/** A state as the columns of its row: the one mapping both the write below and the API's view use. */
export function progressColumns(s: TourState) {
  return {
    id: s.progressId,
    user_id: s.userId,
    organization_id: s.orgId,
    tour_id: s.tourId,
    status: s.status,
    current_step_index: s.currentStepIndex,
    completed_steps: s.completedSteps,
    skipped_steps: s.skippedSteps,
    total_steps: s.totalSteps,
    version: s.version,
    started_at: s.startedAt,
    completed_at: s.completedAt,
    last_interaction_at: s.lastInteractionAt,
    total_time_seconds: Math.floor(s.totalTimeMs / 1000),
    user_rating: s.feedback.rating ?? null,
    feedback: s.feedback.feedback ?? null,
    was_helpful: s.feedback.wasHelpful ?? null,
    device_type: s.deviceType,
    viewport_size: s.viewportSize,
    tour_version: s.tourVersion ?? null,
    step_keys: s.stepKeys ?? null,
    ab_test_id: s.abTest?.testId ?? null,
    ab_variant: s.abTest?.variant ?? null,
  };
}

/** What a newer transition overwrites in an existing row (its identity and created_at stay). */
const MERGED_COLUMNS = [
  'status', 'current_step_index', 'completed_steps', 'skipped_steps', 'total_steps', 'version', 'workflow_id',
  'started_at', 'completed_at', 'last_interaction_at', 'total_time_seconds', 'user_rating', 'feedback',
  'was_helpful', 'device_type', 'viewport_size', 'tour_version', 'step_keys', 'ab_test_id', 'ab_variant',
] as const;

/**
 * Writes a transition: the progress row only if `state.version` is newer than what is stored (so a
 * retry or a late, reordered write is a no-op), and its analytics events keyed by progress, version
 * and position (so a retry inserts nothing twice). Both the API (from an update's result, under RLS)
 * and the workflow's flush call it; whichever comes second changes nothing. Returns whether the row moved.
 */
export async function saveTransition(
  db: Knex,
  input: { state: TourState; workflowId: string; events: RecordedEvent[] },
): Promise<{ written: boolean }> {
  const s = input.state;
  return db.transaction(async (trx) => {
    const values = {
      ...progressColumns(s),
      workflow_id: input.workflowId,
      viewport_size: s.viewportSize ? JSON.stringify(s.viewportSize) : null,
      updated_at: trx.fn.now(),
    };
    // Built by knex with bound values end to end: user text (feedback with `?` or `$1` in it) is a value,
    // never part of the SQL. The WHERE makes a write older than the stored row a no-op.
    const rows = await trx('user_tour_progress')
      .insert(values)
      .onConflict(['user_id', 'organization_id', 'tour_id'])
      .merge([...MERGED_COLUMNS, 'updated_at'])
      .where('user_tour_progress.version', '<', trx.raw('excluded.version'))
      .returning('id');
    const written = rows.length > 0;
    if (input.events.length > 0) {
      await trx('tour_analytics_events')
        .insert(
          input.events.map((e, i) => ({
            event_key: `${s.progressId}:${e.version ?? s.version}:${e.index ?? i}`,
            user_id: s.userId,
            organization_id: s.orgId,
            tour_id: s.tourId,
            progress_id: s.progressId,
            event_type: e.type,
            step_index: e.stepIndex,
            step_key: e.stepKey,
            event_data: JSON.stringify({ version: e.version ?? s.version, ...(e.data ?? {}) }),
            interaction_time_ms: e.interactionTimeMs ?? null,
            timestamp: e.occurredAt ?? s.lastInteractionAt ?? trx.fn.now(),
          })),
        )
        .onConflict('event_key')
        .ignore();
    }
    return { written };
  });
}
