import type { Logger } from 'pino';
import type { Db } from '../db/knex';
import { findProgressById, findProgressFor, rowToState, saveTransition } from '../db/repositories/progress';
import { findTour, listSteps, listTours, type StepRow, type TourListFilter, type TourListItem, type TourRow } from '../db/repositories/tours';
import { withTenant, type Tenant } from '../db/tenant';
import { isSettled, shapeOf, TRANSITION_ERROR_CODES, validate, type TourState, type TransitionErrorCode } from '../domain/tour-state';
import { TOUR_NOT_FOUND, tourWorkflowId, type AdvanceTourArgs, type StartTourArgs, type TourUpdateResult } from '../workflows/tour-lifecycle/messages';
import type { ProgressCache } from './progress-cache';
import { notFound, ok, refuse, type Refusal } from './result';
import { TourRejection, WorkflowServiceError, type TourKey, type TourWorkflows, type UpdateOptions, type WorkflowServiceErrorCode } from './temporal';

/** The moves that can complete a tour, and so the only ones that may carry a subscription interest. */
export const COMPLETING_ACTIONS = ['complete_tour', 'next_step'] as const;

/** A refused start or move; when the workflow (or the stored row) was consulted, the state it had. */
export type TourRefusal<Code extends string> = Refusal<Code> & { state?: TourState };
export type TourResult<T, Code extends string> = { ok: true; value: T } | { ok: false; refusal: TourRefusal<Code> };

/** What the state machine can refuse a start with (a move can be refused with any of its codes). */
const START_REFUSALS = ['tour_already_finished', 'tour_has_no_steps'] as const satisfies readonly TransitionErrorCode[];

export type StartRefusalCode = 'not_found' | (typeof START_REFUSALS)[number] | WorkflowServiceErrorCode;
export type AdvanceRefusalCode = 'not_found' | 'subscription_interest_without_completion' | 'not_your_progress' | TransitionErrorCode | WorkflowServiceErrorCode;

export interface TourServiceDeps {
  /** Non-owner connection: row-level security decides what each caller sees. */
  db: Db;
  workflows: TourWorkflows;
  logger: Logger;
  cache: ProgressCache;
}

export type TourService = ReturnType<typeof createTourService>;

/**
 * Tours as their users see them: reads come from Postgres under RLS; starts and moves go through the
 * tour's workflow, which rules on them, and are then written to Postgres so the caller reads its write.
 */
export function createTourService(deps: TourServiceDeps) {
  const { db, cache } = deps;

  /**
   * Who a progress id belongs to, its status and its tour's steps. A mid-tour progress this process has
   * seen comes from the cache with no query (the workflow rules on every move anyway); anything else is
   * read under RLS, so another organisation's id is not found exactly as before.
   */
  const lookUpProgress = async (auth: Tenant, progressId: string) => {
    const cached = cache.progress(progressId);
    if (cached && cached.status === 'in_progress' && cached.orgId === auth.orgId && cached.userId === auth.userId) {
      let steps = cache.steps(cached.tourId);
      if (!steps) {
        steps = await withTenant(db, auth, (trx) => listSteps(trx, cached.tourId));
        cache.rememberSteps(cached.tourId, steps);
      }
      return { known: cached, row: undefined, steps };
    }
    const { row, steps } = await withTenant(db, auth, async (trx) => {
      const found = await findProgressById(trx, progressId);
      return { row: found, steps: found ? await listSteps(trx, found.tour_id) : [] };
    });
    if (!row) return undefined;
    const known = { orgId: row.organization_id, userId: row.user_id, tourId: row.tour_id, status: row.status };
    if (row.user_id === auth.userId) cache.rememberProgress(progressId, known);
    cache.rememberSteps(row.tour_id, steps);
    return { known, row, steps };
  };

  /**
   * Writes the accepted transition to Postgres as the tour's own user, so this client's next read sees
   * it. If this fails the step is still safe in the workflow, which writes it itself within 30 s.
   */
  const project = async (auth: Tenant, result: TourUpdateResult): Promise<void> => {
    if (result.noop) return;
    const s = result.state;
    try {
      await withTenant(db, auth, (trx) =>
        saveTransition(trx, { state: s, workflowId: tourWorkflowId(s.orgId, s.userId, s.tourId), events: result.events }),
      );
    } catch (err) {
      deps.logger.warn({ err, progressId: s.progressId, version: s.version }, 'progress projection deferred to the workflow');
    }
  };

  return {
    /** Active tours of the caller's organisation with the caller's own progress. */
    list(auth: Tenant, filter: Omit<TourListFilter, 'userId'>): Promise<TourListItem[]> {
      return withTenant(db, auth, (trx) => listTours(trx, { ...filter, userId: auth.userId }));
    },

    async get(auth: Tenant, tourId: string) {
      const found = await withTenant(db, auth, async (trx) => {
        const tour = await findTour(trx, tourId);
        if (!tour) return null;
        const steps = await listSteps(trx, tourId);
        const row = await findProgressFor(trx, { orgId: auth.orgId, userId: auth.userId, tourId });
        return { tour, steps, progress: row ? rowToState(row) : null };
      });
      return found ? ok(found) : notFound('Tour', { tour_id: tourId });
    },

    async getProgress(auth: Tenant, progressId: string) {
      const found = await withTenant(db, auth, async (trx) => {
        const row = await findProgressById(trx, progressId);
        return row ? { state: rowToState(row), steps: await listSteps(trx, row.tour_id) } : null;
      });
      return found ? ok(found) : notFound('Progress', { progress_id: progressId });
    },

    /** Starts the tour (created: true), or answers with the running progress (created: false). */
    async start(
      auth: Tenant,
      tourId: string,
      args: StartTourArgs,
      opts?: UpdateOptions,
    ): Promise<TourResult<{ state: TourState; tour: TourRow; steps: StepRow[]; created: boolean }, StartRefusalCode>> {
      const found = await withTenant(db, auth, async (trx) => {
        const tour = await findTour(trx, tourId);
        return tour ? { tour, steps: await listSteps(trx, tourId) } : null;
      });
      if (!found || !found.tour.is_active) return notFound('Tour', { tour_id: tourId });
      if (found.steps.length === 0) return refuse('tour_has_no_steps', 'This tour has no steps to take');
      const key = { orgId: auth.orgId, userId: auth.userId, tourId };
      const moved = await throughWorkflow(() => deps.workflows.start(key, args, `${found.tour.name} (${found.tour.tour_key}) for user ${auth.userId}`, opts), START_REFUSALS);
      if (!moved.ok) return moved;
      const { state } = moved.value;
      cache.rememberProgress(state.progressId, { ...key, status: state.status });
      await project(auth, moved.value);
      return ok({ state, tour: found.tour, steps: found.steps, created: !moved.value.noop });
    },

    /** Moves the caller's own progress; `celebrate` is true for the move that completed the tour. */
    async advance(
      auth: Tenant,
      progressId: string,
      args: AdvanceTourArgs,
      opts?: UpdateOptions,
    ): Promise<TourResult<{ state: TourState; steps: StepRow[]; celebrate: boolean }, AdvanceRefusalCode>> {
      if (args.subscriptionInterest && !(COMPLETING_ACTIONS as readonly string[]).includes(args.action)) {
        return refuse('subscription_interest_without_completion', 'A subscription interest comes with the move that completes the tour (complete_tour or next_step)', {
          action: args.action,
          allowed_actions: COMPLETING_ACTIONS,
        });
      }
      const found = await lookUpProgress(auth, progressId);
      if (!found) return notFound('Progress', { progress_id: progressId });
      const { known, row, steps } = found;
      if (known.userId !== auth.userId) {
        // Admins can read anyone's progress, but a tour is moved only by the person taking it.
        return refuse('not_your_progress', 'Only the person taking this tour can move it');
      }
      const key: TourKey = { orgId: known.orgId, userId: known.userId, tourId: known.tourId };
      const remember = (state: TourState) => cache.rememberProgress(progressId, { ...key, status: state.status });
      if (row && isSettled(row.status)) {
        // Nobody is mid-tour, so no workflow is running: answer from the stored state with the same rules
        // rather than start a workflow run only to refuse the move.
        const before = rowToState(row);
        const refusal = validate(before, shapeOf(known.tourId, '', steps), { kind: 'advance', ...args });
        if (refusal) {
          remember(before);
          return { ok: false, refusal: { ...refusal, state: before } };
        }
      }
      const moved = await throughWorkflow(
        () => deps.workflows.advance(key, args, `Tour ${known.tourId} for user ${known.userId}`, { ...opts, running: known.status === 'in_progress' }),
        TRANSITION_ERROR_CODES,
        remember,
      );
      if (!moved.ok) return moved;
      const { state } = moved.value;
      remember(state);
      await project(auth, moved.value);
      return ok({ state, steps, celebrate: state.status === 'completed' && known.status !== 'completed' });
    },
  };
}

/**
 * The workflow's answer, or its refusal: a move it rejected (with the state it saw), or Temporal
 * unavailable. `codes` are the state machine's refusals this kind of move can meet; any other is a bug.
 */
async function throughWorkflow<Code extends TransitionErrorCode>(
  send: () => Promise<TourUpdateResult>,
  codes: readonly Code[],
  sawState?: (state: TourState) => void,
): Promise<TourResult<TourUpdateResult, 'not_found' | Code | WorkflowServiceErrorCode>> {
  try {
    return ok(await send());
  } catch (err) {
    if (err instanceof WorkflowServiceError) return refuse(err.code, err.message);
    if (!(err instanceof TourRejection)) throw err;
    const state = (err.state ?? undefined) as TourState | undefined;
    if (state && sawState) sawState(state);
    if (err.code === TOUR_NOT_FOUND) return notFound('Tour', err.details);
    if (!(codes as readonly string[]).includes(err.code)) throw err;
    return { ok: false, refusal: { code: err.code as Code, message: err.message, details: err.details, ...(state ? { state } : {}) } };
  }
}
