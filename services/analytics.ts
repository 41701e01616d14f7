import type { Db } from '../db/knex';
import { clientEventKey, insertClientEvents, ownProgressTours, visibleTourIds, type ClientEventRow } from '../db/repositories/analytics';
import { abTestResults, dashboardSections, type DashboardRange } from '../db/repositories/dashboard';
import { withTenant, type Tenant } from '../db/tenant';
import { compareVariants } from '../domain/analytics';
import { signBeaconToken, verifyBeaconToken } from './beacon-tokens';
import { ok, type Result } from './result';

/** A client event as the API parsed it, before the server's columns are added. */
export type IncomingEvent = Omit<ClientEventRow, 'pageUrl' | 'referrer' | 'sessionId'> & {
  pageUrl?: string;
  referrer?: string;
  sessionId?: string;
};

/** What the request says about every event in it: the batch's context, then its headers. */
export interface RequestContext {
  userAgent: string | null;
  /** The page that sent the request (its Referer header): an event's page unless the event or batch names one. */
  refererHeader: string | null;
  pageUrl?: string;
  referrer?: string;
  sessionId?: string;
}

export type EventOutcome =
  | { index: number; id: string; status: 'recorded' | 'duplicate'; recorded_at: string | null }
  | { index: number; id: string; status: 'refused'; error: { code: 'not_found'; message: string } };

export interface IngestResult {
  recorded: number;
  duplicates: number;
  refused: number;
  results: EventOutcome[];
}

export interface AnalyticsServiceDeps {
  /** Non-owner connection: row-level security holds every insert to the caller. */
  db: Db;
  /** Signs and checks beacon tokens (derived from the credentials keyring). */
  beaconKey: Uint8Array;
  beaconTokenTtlSeconds: number;
}

/**
 * Client analytics: events in (one or a batch, from a page or a sendBeacon at unload), the dashboard
 * out. Every event carries the client's id, so a batch sent twice (a retry after a lost answer) is
 * recorded once; an event for a tour the caller cannot see (another organisation's, or not active) or
 * a progress that is not theirs is refused on its own, and the rest of its batch is recorded.
 */
export function createAnalyticsService(deps: AnalyticsServiceDeps) {
  const { db } = deps;

  async function ingest(auth: Tenant, events: readonly IncomingEvent[], context: RequestContext): Promise<IngestResult> {
    return withTenant(db, auth, async (trx) => {
      // One after the other: a transaction is one connection.
      const tours = await visibleTourIds(trx, unique(events.map((e) => e.tourId)));
      const progress = await ownProgressTours(trx, auth.userId, unique(events.flatMap((e) => (e.progressId ? [e.progressId] : []))));
      const results: EventOutcome[] = [];
      const rows: ClientEventRow[] = [];
      const firstIndex = new Map<string, number>();
      events.forEach((e, index) => {
        const refusal = !tours.has(e.tourId)
          ? `No tour ${e.tourId} in your organisation`
          : e.progressId && progress.get(e.progressId) !== e.tourId
            ? `No progress ${e.progressId} of yours on tour ${e.tourId}`
            : undefined;
        if (refusal) {
          results.push({ index, id: e.clientId, status: 'refused', error: { code: 'not_found', message: refusal } });
          return;
        }
        results.push({ index, id: e.clientId, status: 'duplicate', recorded_at: null });
        if (firstIndex.has(e.clientId)) return;
        firstIndex.set(e.clientId, index);
        rows.push({
          ...e,
          pageUrl: e.pageUrl ?? context.pageUrl ?? context.refererHeader,
          referrer: e.referrer ?? context.referrer ?? null,
          sessionId: e.sessionId ?? context.sessionId ?? null,
        });
      });
      const inserted = await insertClientEvents(trx, { orgId: auth.orgId, userId: auth.userId, userAgent: context.userAgent }, rows);
      let recorded = 0;
      for (const r of results) {
        if (r.status === 'refused' || firstIndex.get(r.id) !== r.index) continue;
        const at = inserted.get(clientEventKey(auth.userId, r.id));
        if (at) {
          Object.assign(r, { status: 'recorded', recorded_at: at.toISOString() });
          recorded++;
        }
      }
      const refused = results.filter((r) => r.status === 'refused').length;
      return { recorded, duplicates: events.length - recorded - refused, refused, results };
    });
  }

  return {
    ingest,

    /** A beacon's batch: its token names the person; then exactly as `ingest`. */
    async ingestBeacon(token: string, events: readonly IncomingEvent[], context: RequestContext): Promise<Result<IngestResult, 'invalid_beacon_token'>> {
      const who = await verifyBeaconToken(deps.beaconKey, token);
      if (!who.ok) return who;
      return ok(await ingest(who.value, events, context));
    },

    mintBeaconToken(auth: Tenant) {
      return signBeaconToken(deps.beaconKey, auth, deps.beaconTokenTtlSeconds);
    },

    /**
     * Seed 000's dashboard for the caller's organisation (admins): overview, per-tour performance and
     * per-step analytics with the drop-off funnel for the range, and every started A/B test with its
     * verdict. The sections are read in parallel, each in its own tenant transaction.
     */
    async dashboard(auth: Tenant, range: DashboardRange) {
      const [sections, tests] = await Promise.all([
        dashboardSections((fn) => withTenant(db, auth, fn), auth.orgId, range),
        withTenant(db, auth, (trx) => abTestResults(trx, range.tourId)),
      ]);
      return {
        ...sections,
        abTests: tests.map((t) => ({
          ...t,
          ...compareVariants(
            t.variants.map((v) => ({ variant: v.variant, sampleSize: v.sample_size, conversions: v.conversions })),
            { minimumSampleSize: t.minimum_sample_size, threshold: t.threshold },
          ),
        })),
      };
    },
  };
}

export type AnalyticsService = ReturnType<typeof createAnalyticsService>;

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
