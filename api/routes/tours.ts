import { Router } from 'express';
import type { Db } from '../../db/knex';
import type { Logger } from 'pino';
import { findProgressById, findProgressFor, rowToState, saveTransition } from '../../db/repositories/progress';
import { findTour, listSteps, listTours } from '../../db/repositories/tours';
import { withTenant, type Tenant } from '../../db/tenant';
import {
  TRANSITION_ERROR_STATUS,
  isFinished,
  isSettled,
  shapeOf,
  validate,
  type TourState,
  type TransitionErrorCode,
} from '../../domain/tour-state';
import { TOUR_NOT_FOUND, tourWorkflowId, type AdvanceTourArgs, type TourUpdateResult } from '../../workflows/tour-lifecycle/messages';
import { ApiError, notFound, parse, requireJsonBody } from '../middleware/errors';
import type { ProgressCache } from '../progress-cache';
import { COMPLETING_ACTIONS, idParams, listToursQuery, progressParams, startTourBody, updateProgressBody } from '../schemas/tours';
import { TourRejection, type TourWorkflows } from '../temporal';
import { currentStep, presentProgress, presentStep, presentTour, remainingSeconds } from '../views';

export interface ToursRouterDeps {
  /** Non-owner connection: row-level security decides what each caller sees. */
  db: Db;
  tours: TourWorkflows;
  logger: Logger;
  cache: ProgressCache;
}

export function createToursRouter(deps: ToursRouterDeps): Router {
  const router = Router();

  /**
   * Who a progress id belongs to, its status and its tour's steps. A mid-tour progress this process has
   * seen comes from the cache with no query (the workflow rules on every move anyway); anything else is
   * read under RLS, so another organisation's id is a 404 exactly as before.
   */
  const lookUpProgress = async (auth: Tenant, progressId: string) => {
    const cached = deps.cache.progress(progressId);
    if (cached && cached.status === 'in_progress' && cached.orgId === auth.orgId && cached.userId === auth.userId) {
      let steps = deps.cache.steps(cached.tourId);
      if (!steps) {
        steps = await withTenant(deps.db, auth, (trx) => listSteps(trx, cached.tourId));
        deps.cache.rememberSteps(cached.tourId, steps);
      }
      return { known: cached, row: undefined, steps };
    }
    const { row, steps } = await withTenant(deps.db, auth, async (trx) => {
      const found = await findProgressById(trx, progressId);
      return { row: found, steps: found ? await listSteps(trx, found.tour_id) : [] };
    });
    if (!row) throw notFound('Progress', { progress_id: progressId });
    const known = { orgId: row.organization_id, userId: row.user_id, tourId: row.tour_id, status: row.status };
    if (row.user_id === auth.userId) deps.cache.rememberProgress(progressId, known);
    deps.cache.rememberSteps(row.tour_id, steps);
    return { known, row, steps };
  };

  /**
   * Writes the accepted transition to Postgres as the tour's own user, so this client's next read sees
   * it. If this fails the step is still safe in the workflow, which writes it itself within 30 s.
   */
  const project = async (auth: Tenant, result: TourUpdateResult): Promise<void> => {
    if (result.noop || !result.events) return; // runs from before the patch persist in the workflow
    const s = result.state;
    try {
      await withTenant(deps.db, auth, (trx) =>
        saveTransition(trx, { state: s, workflowId: tourWorkflowId(s.orgId, s.userId, s.tourId), events: result.events! }),
      );
    } catch (err) {
      deps.logger.warn({ err, progressId: s.progressId, version: s.version }, 'progress projection deferred to the workflow');
    }
  };

  router.get('/', async (req, res) => {
    const query = parse(listToursQuery, req.query, 'query');
    const auth = req.auth!;
    const rows = await withTenant(deps.db, auth, (trx) =>
      listTours(trx, {
        userId: auth.userId,
        ...(query.audience ? { audience: query.audience } : {}),
        ...(query.wedding_phase ? { weddingPhase: query.wedding_phase } : {}),
        includeCompleted: query.include_completed ?? false,
      }),
    );
    res.json({
      tours: rows.map((row) => ({
        ...presentTour(row),
        total_steps: row.step_count,
        progress: row.progress_id
          ? {
              progress_id: row.progress_id,
              status: row.progress_status,
              completed_steps: row.progress_completed_steps,
              current_step_index: row.progress_current_step_index,
            }
          : null,
      })),
      total: rows.length,
      has_active_tour: rows.some((r) => r.progress_status === 'in_progress'),
    });
  });

  // Registered before '/:id' so "progress" is never read as a tour id.
  router.get('/progress/:progressId', async (req, res) => {
    const { progressId } = parse(progressParams, req.params, 'path');
    const { progress, steps } = await withTenant(deps.db, req.auth!, async (trx) => {
      const row = await findProgressById(trx, progressId);
      return { progress: row, steps: row ? await listSteps(trx, row.tour_id) : [] };
    });
    if (!progress) throw notFound('Progress', { progress_id: progressId });
    const state = rowToState(progress);
    res.json({
      progress: presentProgress(state),
      current_step: currentStep(state, steps),
      remaining_steps: isFinished(state.status) ? 0 : Math.max(state.totalSteps - state.currentStepIndex, 0),
      completion_percentage: presentProgress(state).completion_percentage,
    });
  });

  router.put('/progress/:progressId', requireJsonBody, async (req, res) => {
    const { progressId } = parse(progressParams, req.params, 'path');
    const body = parse(updateProgressBody, req.body ?? {}, 'body');
    if (body.subscription_interest && !(COMPLETING_ACTIONS as readonly string[]).includes(body.action)) {
      throw new ApiError(422, 'subscription_interest_without_completion', 'A subscription interest comes with the move that completes the tour (complete_tour or next_step)', {
        action: body.action,
        allowed_actions: COMPLETING_ACTIONS,
      });
    }
    const auth = req.auth!;
    const { known, row, steps } = await lookUpProgress(auth, progressId);
    if (known.userId !== auth.userId) {
      // Admins can read anyone's progress, but a tour is moved only by the person taking it.
      throw new ApiError(403, 'not_your_progress', 'Only the person taking this tour can move it');
    }
    const command: AdvanceTourArgs = {
      action: body.action,
      ...(body.step_index !== undefined ? { stepIndex: body.step_index } : {}),
      ...(body.step_key !== undefined ? { stepKey: body.step_key } : {}),
      ...(body.interaction_time_ms !== undefined ? { interactionTimeMs: body.interaction_time_ms } : {}),
      ...(body.expected_version !== undefined ? { expectedVersion: body.expected_version } : {}),
      ...(body.subscription_interest ? { subscriptionInterest: { plan: body.subscription_interest.plan } } : {}),
      ...(body.user_feedback
        ? {
            feedback: {
              ...(body.user_feedback.rating !== undefined ? { rating: body.user_feedback.rating } : {}),
              ...(body.user_feedback.feedback !== undefined ? { feedback: body.user_feedback.feedback } : {}),
              ...(body.user_feedback.was_helpful !== undefined ? { wasHelpful: body.user_feedback.was_helpful } : {}),
            },
          }
        : {}),
    };
    const key = { orgId: known.orgId, userId: known.userId, tourId: known.tourId };
    const result = await rejectionsAsApiErrors(async () => {
      if (row && isSettled(row.status)) {
        // Nobody is mid-tour, so no workflow is running: answer from the stored state with the same rules
        // rather than start a workflow run only to refuse the move.
        const before = rowToState(row);
        const refusal = validate(before, shapeOf(known.tourId, '', steps), { kind: 'advance', ...command });
        if (refusal) throw new TourRejection(refusal.code, refusal.message, refusal.details, before);
      }
      return deps.tours.advance(key, command, `Tour ${known.tourId} for user ${known.userId}`, {
        running: known.status === 'in_progress',
      });
    }, (state) => deps.cache.rememberProgress(progressId, { ...key, status: state.status }));
    deps.cache.rememberProgress(progressId, { ...key, status: result.state.status });
    await project(auth, result);
    const state = result.state;
    res.json({
      progress: presentProgress(state),
      next_step: currentStep(state, steps),
      tour_completed: isFinished(state.status),
      celebration_trigger: state.status === 'completed' && known.status !== 'completed',
    });
  });

  router.get('/:id', async (req, res) => {
    const { id } = parse(idParams, req.params, 'path');
    const auth = req.auth!;
    const found = await withTenant(deps.db, auth, async (trx) => {
      const tour = await findTour(trx, id);
      if (!tour) return null;
      const steps = await listSteps(trx, id);
      const row = await findProgressFor(trx, { orgId: auth.orgId, userId: auth.userId, tourId: id });
      return { tour, steps, row };
    });
    if (!found) throw notFound('Tour', { tour_id: id });
    res.json({
      tour: { ...presentTour(found.tour), steps: found.steps.map(presentStep) },
      user_progress: found.row ? presentProgress(rowToState(found.row)) : null,
      total_steps: found.steps.length,
    });
  });

  router.post('/:id/start', requireJsonBody, async (req, res) => {
    const { id } = parse(idParams, req.params, 'path');
    const body = parse(startTourBody, req.body ?? {}, 'body');
    const auth = req.auth!;
    const found = await withTenant(deps.db, auth, async (trx) => {
      const tour = await findTour(trx, id);
      return tour ? { tour, steps: await listSteps(trx, id) } : null;
    });
    if (!found || !found.tour.is_active) throw notFound('Tour', { tour_id: id });
    if (found.steps.length === 0) throw new ApiError(422, 'tour_has_no_steps', 'This tour has no steps to take');
    const result = await rejectionsAsApiErrors(() =>
      deps.tours.start(
        { orgId: auth.orgId, userId: auth.userId, tourId: id },
        {
          ...(body.device_type ? { deviceType: body.device_type } : {}),
          ...(body.viewport_size ? { viewportSize: body.viewport_size } : {}),
          ...(body.restart ? { restart: true } : {}),
        },
        `${found.tour.name} (${found.tour.tour_key}) for user ${auth.userId}`,
      ),
    );
    deps.cache.rememberProgress(result.state.progressId, { orgId: auth.orgId, userId: auth.userId, tourId: id, status: result.state.status });
    await project(auth, result);
    const state = result.state;
    res.status(result.noop ? 200 : 201).json({
      progress_id: state.progressId,
      progress: presentProgress(state),
      current_step: currentStep(state, found.steps),
      total_steps: found.steps.length,
      estimated_completion_time: remainingSeconds(state, found.steps),
    });
  });

  return router;
}

async function rejectionsAsApiErrors<T>(fn: () => Promise<T>, sawState?: (state: TourState) => void): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof TourRejection)) throw err;
    if (err.state && sawState) sawState(err.state as TourState);
    if (err.code === TOUR_NOT_FOUND) throw notFound('Tour', err.details);
    const status = TRANSITION_ERROR_STATUS[err.code as TransitionErrorCode] ?? 409;
    throw new ApiError(status, err.code, err.message, {
      ...err.details,
      ...(err.state ? { current_progress: presentProgress(err.state as TourState) } : {}),
    });
  }
}
