import type { Db } from '../db/knex';
import { pseudonymise } from '../db/pseudonyms';
import { rowToState } from '../db/repositories/progress';
import { cancelPersonDeliveries, erasePersonData, personFootprint, readPersonData, type ErasureCounts, type PersonData } from '../db/repositories/user-data';
import { withTenant, type Tenant } from '../db/tenant';
import type { TourState } from '../domain/tour-state';
import { notFound, ok, refuse, type Result } from './result';
import { WorkflowServiceError, type UserWorkflows, type WorkflowServiceErrorCode } from './temporal';

export interface UserDataExport extends Omit<PersonData, 'progress'> {
  progress: TourState[];
  /** The same progress rows' ratings and comments, as a list of what the person said. */
  feedback: { tour_id: string; progress_id: string; rating: number | null; feedback: string | null; was_helpful: boolean | null }[];
}

export interface ErasureSummary extends ErasureCounts {
  workflows_deleted: number;
}

/**
 * A person's rights over their tour data (GDPR articles 15, 17 and 20), exercised by an admin of their
 * organisation: a JSON export of everything stored about their tours, and its erasure.
 *
 * Erasure runs in this order, so nothing writes the person back after the delete: (1) deliveries not yet
 * sent are cancelled, so an attempt starting meanwhile sends nothing; (2) their workflows are
 * terminated and deleted from Temporal (history and visibility): a terminated run takes no further
 * step, so no flush re-creates their progress; (3) their rows are deleted in one transaction.
 */
export function createUserDataService(deps: { db: Db; workflows: UserWorkflows; pseudonymKey: Uint8Array }) {
  const { db } = deps;
  const keyOf = (auth: Tenant, userId: string) => pseudonymise(deps.pseudonymKey, auth.orgId, userId);

  return {
    async export(auth: Tenant, userId: string): Promise<Result<UserDataExport, 'not_found'>> {
      const data = await withTenant(db, auth, (trx) => readPersonData(trx, auth.orgId, userId, keyOf(auth, userId)));
      const { progress, ...rest } = data;
      if (!data.member && progress.length === 0 && data.events.length === 0 && data.deliveries.length === 0 && data.assignments.length === 0 && data.aggregates.length === 0) {
        return notFound('Person', { user_id: userId });
      }
      return ok({
        ...rest,
        progress: progress.map(rowToState),
        feedback: progress
          .filter((p) => p.user_rating !== null || p.feedback !== null || p.was_helpful !== null)
          .map((p) => ({ tour_id: p.tour_id, progress_id: p.id, rating: p.user_rating, feedback: p.feedback, was_helpful: p.was_helpful })),
      });
    },

    async erase(auth: Tenant, userId: string): Promise<Result<ErasureSummary, 'not_found' | WorkflowServiceErrorCode>> {
      const footprint = await withTenant(db, auth, async (trx) => {
        const found = await personFootprint(trx, auth.orgId, userId);
        return found.exists ? { ...found, cancelled: await cancelPersonDeliveries(trx, userId) } : undefined;
      });
      if (!footprint) return notFound('Person', { user_id: userId });
      let deleted: number;
      try {
        ({ deleted } = await deps.workflows.erase({ orgId: auth.orgId, userId }, footprint.tourIds, footprint.deliveryIds, footprint.subscriptionIds));
      } catch (err) {
        // Nothing was deleted from Postgres yet: the admin can simply ask again.
        if (err instanceof WorkflowServiceError) return refuse(err.code, err.message);
        throw err;
      }
      const counts = await withTenant(db, auth, (trx) => erasePersonData(trx, auth.orgId, userId, keyOf(auth, userId)));
      return ok({ ...counts, deliveries_cancelled: counts.deliveries_cancelled + footprint.cancelled, workflows_deleted: deleted });
    },
  };
}

export type UserDataService = ReturnType<typeof createUserDataService>;
