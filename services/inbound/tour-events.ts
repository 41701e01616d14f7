import { z } from 'zod';
import type { Db } from '../../db/knex';
import { withReceiverScope } from '../../db/receiver-scope';
import { openValidSigningSecrets } from '../../db/repositories/signing-secrets';
import { forgetWebhookEvent, markWebhookEvent, recordWebhookEvent } from '../../db/repositories/webhook-events';
import type { SecretBox } from '../../db/secrets';
import type { Tenant } from '../../db/tenant';
import { DEVICE_TYPES, type TourState } from '../../domain/tour-state';
import { inboundTourCommand, INBOUND_TOUR_EVENT_TYPES, type InboundTourEventType } from '../../domain/webhooks';
import { ok, refuse, type Refusal, type Result } from '../result';
import type { AdvanceRefusalCode, StartRefusalCode, TourService } from '../tours';
import { verifyTourSignature, type SignatureFailure } from '../webhook-signatures';
import { ttlCache, VERIFICATION_CACHE_MS, type TtlCache } from './ttl-cache';

/** Seed 001's tour event body. Ids are lower-cased here, so keys built from them are canonical. */
export const TourEventBody = z.strictObject({
  event_type: z.string().min(1).max(50).describe(`One of ${INBOUND_TOUR_EVENT_TYPES.join(', ')}`),
  event_id: z.string().min(1).max(100).describe("The sender's id for this event: a second event with the same id is a duplicate"),
  timestamp: z.iso.datetime({ offset: true }).describe('When it happened at the sender'),
  user_id: z.uuid().transform((v) => v.toLowerCase()),
  organization_id: z.uuid().transform((v) => v.toLowerCase()),
  tour_id: z.uuid().transform((v) => v.toLowerCase()),
  progress_id: z.uuid().transform((v) => v.toLowerCase()).describe('The progress the move applies to (a start finds or makes its own)'),
  data: z
    .object({
      step_index: z.number().int().min(0).max(10_000).optional(),
      step_key: z.string().min(1).max(100).optional(),
      device_type: z.enum(DEVICE_TYPES).optional(),
      restart: z.boolean().optional(),
      rating: z.number().optional(),
      feedback: z.string().max(2000).optional(),
      was_helpful: z.boolean().optional(),
    })
    // The seed lets senders add context; it is kept in the stored payload and otherwise unused.
    .loose()
    .optional(),
});
export type TourEventBody = z.output<typeof TourEventBody>;

/** A webhook never carries a subscription interest, so that refusal of a move cannot arise here. */
export type TourEventRefusalCode =
  | 'invalid_signature'
  | 'malformed_json'
  | 'validation_error'
  | 'unsupported_tour_event'
  | StartRefusalCode
  | Exclude<AdvanceRefusalCode, 'subscription_interest_without_completion'>;

export interface TourEventReceipt {
  eventId: string;
  /** True when an earlier copy of this event had already been received: nothing happened twice. */
  duplicate: boolean;
  /** The progress after the move; absent for a duplicate answered from the stored event. */
  state?: TourState;
}

export interface TourEventDeps {
  /** The API's connection (RLS): receiver transactions for the event, the caller's tenant for the move. */
  db: Db;
  box: SecretBox;
  tours: TourService;
  /** Organisations' signing secrets, shared with the service that rotates them (which forgets an entry it changes). */
  secrets?: TtlCache<string[]>;
  now?: () => number;
}

const fail = (reason: SignatureFailure) =>
  refuse('invalid_signature', reason === 'timestamp_out_of_tolerance' ? 'The signature is older (or newer) than 5 minutes' : 'The x-wedsync-signature header is missing or does not match this body', {
    reason,
  });

/**
 * POST /api/webhooks/tour-events: verify, record (unique per organisation and event id), hand the move
 * to the tour's workflow, answer. Copies of one event in this process share one promise; copies in
 * other processes find the stored row, and any that must act again send the same Temporal update id,
 * which the run answers with the first one's result: one effect however many copies arrive.
 */
export function createTourEventReceiver(deps: TourEventDeps) {
  const now = deps.now ?? Date.now;
  const inFlight = new Map<string, Promise<Result<TourEventReceipt, TourEventRefusalCode>>>();
  const secretsOf = deps.secrets ?? ttlCache<string[]>(VERIFICATION_CACHE_MS);
  const loadSecrets = (orgId: string) => withReceiverScope(deps.db, orgId, (trx) => openValidSigningSecrets(trx, deps.box, orgId));

  async function receive(raw: Buffer, signature: string | undefined): Promise<Result<TourEventReceipt, TourEventRefusalCode>> {
    // No signature: refused before the body is even read.
    if (!signature) return fail('missing');
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      return refuse('malformed_json', 'Request body is not valid JSON');
    }
    // The organisation names the secrets to check with; nothing else is trusted before the check.
    const org = z.object({ organization_id: z.uuid() }).safeParse(json);
    if (!org.success) return refuse('invalid_signature', 'The body names no organisation whose secret could have signed it', { reason: 'no_secret' });
    const orgId = org.data.organization_id.toLowerCase();
    const check = async (fresh: boolean) =>
      verifyTourSignature(signature, raw, await secretsOf.get(orgId, () => loadSecrets(orgId), { fresh }), Math.floor(now() / 1000));
    let verified = await check(false);
    // A secret made since the cache was filled: read them afresh before refusing.
    if (!verified.ok && (verified.reason === 'mismatch' || verified.reason === 'no_secret')) verified = await check(true);
    if (!verified.ok) return fail(verified.reason);

    const body = TourEventBody.safeParse(json);
    if (!body.success) {
      return refuse('validation_error', 'Invalid request body', {
        issues: body.error.issues.map((i) => ({ path: i.path.join('.'), code: i.code, message: i.message })),
      });
    }
    const event = body.data;
    if (!(INBOUND_TOUR_EVENT_TYPES as readonly string[]).includes(event.event_type)) {
      return refuse('unsupported_tour_event', `This hub does not act on ${event.event_type}`, {
        event_type: event.event_type,
        supported: INBOUND_TOUR_EVENT_TYPES,
        ...(event.event_type === 'user_feedback' ? { hint: 'send the feedback in the data of the tour_completed event' } : {}),
      });
    }
    const key = `${orgId}:${event.event_id}`;
    const running = inFlight.get(key);
    if (running) return running.then((r) => (r.ok ? ok({ ...r.value, duplicate: true }) : r));
    const handling = handle(orgId, event).finally(() => inFlight.delete(key));
    inFlight.set(key, handling);
    return handling;
  }

  async function handle(orgId: string, event: TourEventBody): Promise<Result<TourEventReceipt, TourEventRefusalCode>> {
    const recorded = await withReceiverScope(deps.db, orgId, (trx) =>
      recordWebhookEvent(trx, { organizationId: orgId, webhookId: event.event_id, eventType: event.event_type, source: 'tour_system', payload: event }),
    );
    if (!recorded.created && recorded.row.status === 'processed') return ok({ eventId: event.event_id, duplicate: true });

    const tenant: Tenant = { orgId, userId: event.user_id, role: 'member' };
    const command = inboundTourCommand(event.event_type as InboundTourEventType, event.data ?? {});
    // The same id for every copy: a run that already applied it answers with the first result.
    const opts = { updateId: `tour-event:${orgId}:${event.event_id}` };
    const moved =
      command.kind === 'start' ? await deps.tours.start(tenant, event.tour_id, command.args, {}, opts) : await deps.tours.advance(tenant, event.progress_id, command.args, opts);
    if (!moved.ok) {
      // Refused (or Temporal unreachable): nothing happened, so nothing is kept, and a corrected or
      // later copy is judged afresh.
      await withReceiverScope(deps.db, orgId, (trx) => forgetWebhookEvent(trx, recorded.row.id));
      const { code, message, details } = moved.refusal;
      return { ok: false, refusal: { code, message, details } as Refusal<TourEventRefusalCode> };
    }
    await withReceiverScope(deps.db, orgId, (trx) => markWebhookEvent(trx, recorded.row.id, 'processed'));
    return ok({ eventId: event.event_id, duplicate: !recorded.created, state: moved.value.state });
  }

  return { receive };
}

export type TourEventReceiver = ReturnType<typeof createTourEventReceiver>;
