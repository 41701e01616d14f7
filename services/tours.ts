import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Db } from '../db/knex';
import { findRunningTests } from '../db/repositories/ab-tests';
import { findProgressById, findProgressFor, rowToState, saveTransition, type ProgressRow } from '../db/repositories/progress';
import type { VersionRow } from '../db/repositories/tour-versions';
import { findTour, listLiveTours, type LiveTour, type StepRow } from '../db/repositories/tours';
import { withTenant, type Tenant } from '../db/tenant';
import type { Variant } from '../domain/ab';
import { missingPrerequisites, offer, stepsForRun, WEDDING_PHASES } from '../domain/targeting';
import {
  FEEDBACK_ERROR_CODES,
  isFinished,
  isSettled,
  shapeOf,
  TRANSITION_ERROR_CODES,
  validate,
  type Feedback,
  type MoveErrorCode,
  type RunExperiment,
  type TourRun,
  type TourState,
  type TransitionErrorCode,
} from '../domain/tour-state';
import { TOUR_NOT_FOUND, tourWorkflowId, type AdvanceTourArgs, type StartTourArgs, type TourUpdateResult } from '../workflows/tour-lifecycle/messages';
import type { ProgressCache } from './progress-cache';
import { notFound, ok, refuse, type Refusal } from './result';
import { audienceOf, exposeTo, previewVariants } from './targeting';
import { TourRejection, WorkflowServiceError, type TourKey, type TourWorkflows, type UpdateOptions, type WorkflowServiceErrorCode } from './temporal';
import { createTourContent, type RunContent, type Scope } from './tour-content';

/** The moves that can complete a tour, and so the only ones that may carry a subscription interest. */
export const COMPLETING_ACTIONS = ['complete_tour', 'next_step'] as const;

/** A refused start or move; when the workflow (or the stored row) was consulted, the state it had. */
export type TourRefusal<Code extends string> = Refusal<Code> & { state?: TourState };
export type TourResult<T, Code extends string> = { ok: true; value: T } | { ok: false; refusal: TourRefusal<Code> };

/** What the state machine can refuse a start with (a move can be refused with any of its codes). */
const START_REFUSALS = ['tour_already_finished', 'tour_has_no_steps'] as const satisfies readonly MoveErrorCode[];

export type StartRefusalCode = 'not_found' | 'prerequisites_missing' | (typeof START_REFUSALS)[number] | WorkflowServiceErrorCode;
export type AdvanceRefusalCode = 'not_found' | 'subscription_interest_without_completion' | 'not_your_progress' | MoveErrorCode | WorkflowServiceErrorCode;
export type FeedbackRefusalCode = 'not_found' | 'not_your_progress' | (typeof FEEDBACK_ERROR_CODES)[number] | WorkflowServiceErrorCode;

/** The client's own account of the person (query or body `context`), for the rules. */
export type ClientContext = Readonly<Record<string, unknown>>;

export interface TourListFilter {
  /** Narrow further than the profile does (seed 000's query parameters). */
  audience?: string[];
  weddingPhase?: string;
  includeCompleted: boolean;
  context: ClientContext;
}

/** One tour as the listing offers it. */
export interface OfferedTour {
  tour: LiveTour;
  variant: Variant | null;
}

export interface TourServiceDeps {
  /** Non-owner connection: row-level security decides what each caller sees. */
  db: Db;
  workflows: TourWorkflows;
  logger: Logger;
  cache: ProgressCache;
}

export type TourService = ReturnType<typeof createTourService>;

const RESUMABLE = (status: string) => status === 'in_progress' || status === 'abandoned';
/** Tours are listed by wedding phase in the order a wedding goes through them, then by name. */
const phaseOrder = (t: LiveTour) => (WEDDING_PHASES as readonly string[]).indexOf(t.definition.wedding_phase);

/**
 * Tours as their users see them: reads come from Postgres under RLS; starts and moves go through the
 * tour's workflow, which rules on them, and are then written to Postgres so the caller reads its write.
 * Each run shows the version it started on, the steps its targeting rules kept and its A/B variant.
 */
export function createTourService(deps: TourServiceDeps) {
  const { db, cache } = deps;
  const content = createTourContent(cache);

  const within = (trx: Knex): Scope => (fn) => fn(trx);
  const liveVersionOf = (scope: Scope, tourId: string) => () => scope(async (trx) => (await findTour(trx, tourId))?.published_version ?? null);

  /**
   * The content of the run `state` describes (or of the live version, for a run from before versions):
   * from memory once seen, so the hot path opens no transaction for it.
   */
  const runContent = (auth: Tenant, state: TourState): Promise<RunContent | undefined> => {
    const scope: Scope = (fn) => withTenant(db, auth, fn);
    return content.ofRun(scope, state, liveVersionOf(scope, state.tourId));
  };

  /**
   * Who a progress id belongs to and its status. A mid-tour progress this process has seen comes from
   * the cache with no query (the workflow rules on every move anyway); anything else is read under RLS,
   * so another organisation's id is not found exactly as before.
   */
  const lookUpProgress = async (auth: Tenant, progressId: string) => {
    const cached = cache.progress(progressId);
    if (cached && cached.status === 'in_progress' && cached.orgId === auth.orgId && cached.userId === auth.userId) {
      return { known: cached, row: undefined };
    }
    const row = await withTenant(db, auth, (trx) => findProgressById(trx, progressId));
    if (!row) return undefined;
    const known = { orgId: row.organization_id, userId: row.user_id, tourId: row.tour_id, status: row.status };
    if (row.user_id === auth.userId) cache.rememberProgress(progressId, known);
    return { known, row };
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

  /**
   * A settled tour's stored state, checked against the same rules the workflow applies: nobody is
   * mid-tour, so no run may be open, and a refusal should not start one.
   */
  const refusedFromRow = async (auth: Tenant, row: ProgressRow, command: Parameters<typeof validate>[2]) => {
    const before = rowToState(row);
    const run = await runContent(auth, before);
    const refusal = validate(before, shapeOf(row.tour_id, '', run?.steps ?? []), command);
    return refusal ? { ...refusal, state: before } : null;
  };

  /**
   * What a person who has not started the tour (or finished it) is shown: the live version, the steps
   * their rules keep, and the running test's variant, whose exposure is recorded now (`expose`).
   */
  const freshContent = async (trx: Knex, auth: Tenant, tourId: string, version: number, client: ClientContext, expose: boolean) => {
    const row = await content.version(within(trx), tourId, version);
    if (!row) return undefined;
    const audience = await audienceOf(trx, auth, client);
    const kept = stepsForRun(row.steps, audience.context);
    const test = (await findRunningTests(trx, [tourId])).get(tourId);
    const variant = test ? (expose ? await exposeTo(trx, auth, test) : (await previewVariants(trx, auth, [test])).get(test.id)!) : null;
    const experiment: RunExperiment | null = test && variant ? { testId: test.id, variant } : null;
    const config = await content.variantConfig(within(trx), experiment);
    return { version: row, kept, experiment, audience, steps: content.compose(row, kept.map((s) => s.step_key), config) };
  };

  /** The tour as the caller sees it now: their run's content, or what a start would give them. */
  const view = async (auth: Tenant, tourId: string, client: ClientContext) =>
    withTenant(db, auth, async (trx) => {
      const tour = await findTour(trx, tourId);
      if (!tour || !tour.is_active || tour.published_version === null) return null;
      const row = await findProgressFor(trx, { orgId: auth.orgId, userId: auth.userId, tourId });
      const progress = row ? rowToState(row) : null;
      if (progress && progress.tourVersion) {
        const run = await content.ofRun(within(trx), progress, async () => tour.published_version);
        if (run) return { ...run, progress };
      }
      const fresh = await freshContent(trx, auth, tourId, tour.published_version, client, true);
      return fresh ? { version: fresh.version, steps: fresh.steps, variant: fresh.experiment?.variant ?? null, progress } : null;
    });

  return {
    /**
     * The live tours offered to the caller: their audience and wedding phase, their prerequisites
     * completed, their show rule holding and skip rule not (domain/targeting.ts), then the query's own
     * filters. Each comes with the caller's variant of its running test, if any.
     */
    async list(auth: Tenant, filter: TourListFilter): Promise<OfferedTour[]> {
      return withTenant(db, auth, async (trx) => {
        const tours = await listLiveTours(trx, auth.userId);
        const audience = await audienceOf(trx, auth, filter.context);
        const offered = tours.filter((t) => {
          // Someone who has started a tour keeps seeing it, whatever their targeting says now.
          if (!t.progress_status && !offer(t.definition, audience.facts, audience.context).offered) return false;
          if (filter.audience?.length && !filter.audience.some((a) => t.definition.target_audience.includes(a))) return false;
          if (filter.weddingPhase && t.definition.wedding_phase !== filter.weddingPhase) return false;
          if (!filter.includeCompleted && t.progress_status && isFinished(t.progress_status)) return false;
          return true;
        });
        const running = await findRunningTests(trx, offered.map((t) => t.id));
        const variants = await previewVariants(trx, auth, [...running.values()]);
        return offered
          .map((tour) => {
            const runVariant = tour.progress_tour_version !== null && tour.progress_status && !isFinished(tour.progress_status) ? tour.progress_ab_variant : undefined;
            const test = running.get(tour.id);
            return { tour, variant: runVariant !== undefined ? runVariant : test ? (variants.get(test.id) ?? null) : null };
          })
          .sort((a, b) => phaseOrder(a.tour) - phaseOrder(b.tour) || a.tour.definition.name.localeCompare(b.tour.definition.name));
      });
    },

    /** A live tour as the caller sees it: their run's version, steps and variant, or those a start would give. */
    async get(auth: Tenant, tourId: string, client: ClientContext) {
      const found = await view(auth, tourId, client);
      return found ? ok(found) : notFound('Tour', { tour_id: tourId });
    },

    /** Up to `limit` steps from `from` of what get() shows, for a client to fetch ahead. */
    async steps(auth: Tenant, tourId: string, page: { from: number; limit: number }, client: ClientContext) {
      const found = await view(auth, tourId, client);
      if (!found) return notFound('Tour', { tour_id: tourId });
      return ok({ ...found, page: found.steps.slice(page.from, page.from + page.limit), total: found.steps.length });
    },

    async getProgress(auth: Tenant, progressId: string) {
      const found = await withTenant(db, auth, async (trx) => {
        const row = await findProgressById(trx, progressId);
        if (!row) return null;
        const state = rowToState(row);
        return { state, run: await content.ofRun(within(trx), state, liveVersionOf(within(trx), row.tour_id)) };
      });
      return found ? ok({ state: found.state, steps: found.run?.steps ?? [], variant: found.run?.variant ?? null, version: found.run?.version ?? null }) : notFound('Progress', { progress_id: progressId });
    },

    /**
     * Starts the tour (created: true), or answers with the running progress (created: false). A start
     * that begins a run checks the prerequisites, keeps the steps the caller's rules allow, and records
     * their exposure to the tour's running test; a resume takes the run where it was.
     */
    async start(
      auth: Tenant,
      tourId: string,
      args: StartTourArgs,
      client: ClientContext = {},
      opts?: UpdateOptions,
    ): Promise<TourResult<{ state: TourState; version: VersionRow; steps: StepRow[]; variant: Variant | null; created: boolean }, StartRefusalCode>> {
      const key = { orgId: auth.orgId, userId: auth.userId, tourId };
      const prepared = await withTenant(db, auth, async (trx) => {
        const tour = await findTour(trx, tourId);
        if (!tour || !tour.is_active || tour.published_version === null) return notFound('Tour', { tour_id: tourId });
        const summary = `${tour.name} (${tour.tour_key}) for user ${auth.userId}`;
        const row = await findProgressFor(trx, key);
        // A resume keeps its run; a finished tour without restart is refused by the workflow as before.
        if (row && (RESUMABLE(row.status) || (isFinished(row.status) && !args.restart))) return ok({ summary, run: undefined, abTest: undefined });
        const fresh = await freshContent(trx, auth, tourId, tour.published_version, client, false);
        if (!fresh) return notFound('Tour', { tour_id: tourId });
        const missing = missingPrerequisites(fresh.version.definition.prerequisite_tours, new Set(fresh.audience.facts.completed_tours));
        if (missing.length > 0) {
          const names = new Map<string, string | null>();
          for (const id of missing) names.set(id, (await findTour(trx, id))?.name ?? null);
          return refuse('prerequisites_missing', `Complete ${missing.length === 1 ? 'this tour' : 'these tours'} first: ${missing.map((id) => names.get(id) ?? id).join(', ')}`, {
            missing: missing.map((id) => ({ tour_id: id, name: names.get(id) ?? null })),
          });
        }
        if (fresh.kept.length === 0) {
          return refuse('tour_has_no_steps', 'None of this tour\'s steps apply to you (their show and skip rules)', { reason: 'conditions' });
        }
        const test = (await findRunningTests(trx, [tourId])).get(tourId);
        const abTest: RunExperiment | undefined = test ? { testId: test.id, variant: await exposeTo(trx, auth, test) } : undefined;
        const run: TourRun = { version: fresh.version.version, stepKeys: fresh.kept.map((s) => s.step_key) };
        return ok({ summary, run, abTest });
      });
      if (!prepared.ok) return prepared;
      const { summary, run, abTest } = prepared.value;
      const sent: StartTourArgs = { ...args, ...(run ? { run } : {}), ...(abTest ? { abTest } : {}) };
      const moved = await throughWorkflow(() => deps.workflows.start(key, sent, summary, opts), START_REFUSALS);
      if (!moved.ok) return moved;
      const { state } = moved.value;
      cache.rememberProgress(state.progressId, { ...key, status: state.status });
      await project(auth, moved.value);
      const shown = await runContent(auth, state);
      if (!shown) return notFound('Tour', { tour_id: tourId });
      return ok({ state, version: shown.version, steps: shown.steps, variant: shown.variant, created: !moved.value.noop });
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
      const { known, row } = found;
      if (known.userId !== auth.userId) {
        // Admins can read anyone's progress, but a tour is moved only by the person taking it.
        return refuse('not_your_progress', 'Only the person taking this tour can move it');
      }
      const key: TourKey = { orgId: known.orgId, userId: known.userId, tourId: known.tourId };
      const remember = (state: TourState) => cache.rememberProgress(progressId, { ...key, status: state.status });
      if (row && isSettled(row.status)) {
        const refusal = await refusedFromRow(auth, row, { kind: 'advance', ...args });
        if (refusal) {
          remember(refusal.state);
          return { ok: false, refusal: refusal as TourRefusal<MoveErrorCode> };
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
      const shown = await runContent(auth, state);
      return ok({ state, steps: shown?.steps ?? [], celebrate: state.status === 'completed' && known.status !== 'completed' });
    },

    /**
     * A rating of the caller's finished tour, once. It goes through the tour's workflow (re-created
     * from Postgres if its run has closed), which routes it to the hub's feedback_submitted deliveries.
     */
    async feedback(auth: Tenant, progressId: string, feedback: Feedback): Promise<TourResult<{ state: TourState }, FeedbackRefusalCode>> {
      const found = await lookUpProgress(auth, progressId);
      if (!found) return notFound('Progress', { progress_id: progressId });
      const { known, row } = found;
      if (known.userId !== auth.userId) return refuse('not_your_progress', 'Only the person who took this tour can rate it');
      const key: TourKey = { orgId: known.orgId, userId: known.userId, tourId: known.tourId };
      const remember = (state: TourState) => cache.rememberProgress(progressId, { ...key, status: state.status });
      if (row) {
        const refusal = await refusedFromRow(auth, row, { kind: 'feedback', feedback });
        if (refusal) return { ok: false, refusal: refusal as TourRefusal<(typeof FEEDBACK_ERROR_CODES)[number]> };
      } else {
        // The cache only vouches for in_progress, which cannot be rated.
        return refuse('tour_not_finished', 'Tour is in_progress; rate it once it is finished', { status: known.status });
      }
      const moved = await throughWorkflow(() => deps.workflows.feedback(key, { feedback }, `Tour ${known.tourId} for user ${known.userId}`), FEEDBACK_ERROR_CODES, remember);
      if (!moved.ok) return moved;
      remember(moved.value.state);
      await project(auth, moved.value);
      return ok({ state: moved.value.state });
    },
  };
}

/**
 * The workflow's answer, or its refusal: a move it rejected (with the state it saw), or Temporal
 * unavailable. `codes` are the state machine's refusals this kind of command can meet; any other is a bug.
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
