import Stripe from 'stripe';
import twilio from 'twilio';
import type { Db } from '../../db/knex';
import { integrationOrg, withReceiverScope } from '../../db/receiver-scope';
import { findIntegration, openCredentials, type IntegrationRow } from '../../db/repositories/integrations';
import { noteProviderStatus } from '../../db/repositories/provider-status';
import { markWebhookEvent, recordWebhookEvent, type WebhookSource } from '../../db/repositories/webhook-events';
import type { SecretBox } from '../../db/secrets';
import { notFound, ok, refuse, type Result } from '../result';
import { SIGNATURE_TOLERANCE_SECONDS } from '../webhook-signatures';
import { ttlCache, VERIFICATION_CACHE_MS } from './ttl-cache';

/**
 * Inbound webhooks from the providers we call: each names its integration by a path id, is checked
 * with that integration's own secret through the vendor's SDK, recorded once (unique per organisation,
 * source and event), and then updates the delivery it is about. Effects are idempotent (a status only
 * moves forward), so a copy that finds its event still pending simply applies it again.
 */

export interface ProviderReceiverDeps {
  /** The API's connection (RLS): receiver transactions of the integration's organisation. */
  db: Db;
  box: SecretBox;
  /** Where providers reach this API (PUBLIC_URL): Twilio signs the full URL it called. */
  publicUrl: string;
}

export interface ProviderReceipt {
  eventId: string;
  duplicate: boolean;
  /** Deliveries whose provider status this event changed. */
  updated: number;
}

export type ProviderRefusalCode = 'not_found' | 'invalid_signature';

const noSecret = (what: string) => refuse('invalid_signature', `This integration has no ${what} to check the signature with`, { reason: 'no_secret' });
const mismatch = (header: string) => refuse('invalid_signature', `The ${header} header is missing or does not match this request`, { reason: 'mismatch' });

/** Stripe's payment events and the status each gives the delivery that created the customer. */
const STRIPE_PAYMENT_STATUS: Record<string, 'payment_succeeded' | 'payment_failed'> = {
  'invoice.paid': 'payment_succeeded',
  'invoice.payment_succeeded': 'payment_succeeded',
  'payment_intent.succeeded': 'payment_succeeded',
  'checkout.session.completed': 'payment_succeeded',
  'invoice.payment_failed': 'payment_failed',
  'payment_intent.payment_failed': 'payment_failed',
};

/** Twilio's message statuses in the order a message passes them; the final ones share the top rank. */
const TWILIO_RANK: Record<string, number> = { accepted: 1, scheduled: 1, queued: 1, sending: 2, sent: 3, delivered: 4, undelivered: 4, failed: 4, canceled: 4, read: 5 };
const twilioRank = (s: string | null) => (s === null ? 0 : (TWILIO_RANK[s] ?? 0));
const stripeRank = (s: string | null) => (s === null ? 0 : s === 'payment_failed' ? 1 : 2);

type Refusal = { ok: false; refusal: { code: ProviderRefusalCode; message: string; details: Record<string, unknown> } };

export function createProviderReceiver(deps: ProviderReceiverDeps) {
  const integrations = ttlCache<{ orgId: string; row: IntegrationRow } | null>(VERIFICATION_CACHE_MS);
  const load = async (integrationId: string) => {
    const orgId = await integrationOrg(deps.db, integrationId);
    const row = orgId ? await withReceiverScope(deps.db, orgId, (trx) => findIntegration(trx, integrationId)) : undefined;
    return orgId && row ? { orgId, row } : null;
  };

  /**
   * The integration a path names (another provider's id is not found too), and `verify`'s answer with
   * its credentials. A refusal against a cached row is tried once more against a fresh one, so
   * credentials changed a moment ago apply at once.
   */
  async function withIntegration<T>(
    integrationId: string,
    provider: string,
    verify: (row: IntegrationRow, orgId: string) => Promise<T | Refusal>,
  ): Promise<T | Refusal | undefined> {
    for (const fresh of [false, true]) {
      const found = await integrations.get(integrationId, () => load(integrationId), { fresh });
      if (!found || found.row.provider !== provider) {
        if (fresh) return undefined;
        continue;
      }
      const answer = await verify(found.row, found.orgId);
      if (fresh || !(typeof answer === 'object' && answer !== null && 'ok' in answer && answer.ok === false && answer.refusal.code === 'invalid_signature')) return answer;
    }
    return undefined;
  }

  /**
   * Stores the event and applies its effect in one transaction: a concurrent copy's insert waits for
   * this commit and then finds the event processed. A copy left pending (a crash) is applied again:
   * every effect is idempotent.
   */
  async function record(
    orgId: string,
    row: IntegrationRow,
    source: WebhookSource,
    event: { id: string; type: string; payload: Record<string, unknown>; resource?: string },
    effect: (trx: Parameters<Parameters<typeof withReceiverScope>[2]>[0]) => Promise<number>,
  ): Promise<ProviderReceipt> {
    return withReceiverScope(deps.db, orgId, async (trx) => {
      const recorded = await recordWebhookEvent(trx, {
        organizationId: orgId,
        webhookId: event.id,
        eventType: event.type,
        source,
        payload: event.payload,
        integrationId: row.id,
        ...(event.resource ? { resource: event.resource } : {}),
      });
      if (!recorded.created && recorded.row.status === 'processed') return { eventId: event.id, duplicate: true, updated: 0 };
      const updated = await effect(trx);
      await markWebhookEvent(trx, recorded.row.id, 'processed');
      return { eventId: event.id, duplicate: !recorded.created, updated };
    });
  }

  return {
    /** POST /api/webhooks/stripe/{integrationId}: `Stripe-Signature` through the SDK, the integration's endpoint secret. */
    async stripe(integrationId: string, raw: Buffer, signature: string | undefined): Promise<Result<ProviderReceipt, ProviderRefusalCode>> {
      const answer = await withIntegration(integrationId, 'stripe', async (row, orgId) => {
        const secret = openCredentials<{ webhookSecret?: string }>(deps.box, row).webhookSecret;
        if (!secret) return noSecret('webhook endpoint secret (credentials.webhookSecret)');
        if (!signature) return mismatch('Stripe-Signature');
        let event: Stripe.Event;
        try {
          event = Stripe.webhooks.constructEvent(raw, signature, secret, SIGNATURE_TOLERANCE_SECONDS);
        } catch (err) {
          if (err instanceof Stripe.errors.StripeSignatureVerificationError) {
            const old = /timestamp outside the tolerance/i.test(err.message);
            return refuse('invalid_signature', old ? 'The signature is older than 5 minutes' : 'The Stripe-Signature header does not match this body', {
              reason: old ? 'timestamp_out_of_tolerance' : 'mismatch',
            });
          }
          throw err;
        }
        const object = event.data.object as unknown as Record<string, unknown>;
        const customer = typeof object.customer === 'string' ? object.customer : undefined;
        const amount = [object.amount_paid, object.amount_received, object.amount_total].find((a) => typeof a === 'number');
        // Only what the delivery needs: the event's ids and figures, not the customer's details.
        const summary = { id: event.id, type: event.type, created: event.created, livemode: event.livemode, object_id: object.id ?? null, customer: customer ?? null, amount: amount ?? null, currency: object.currency ?? null };
        const status = STRIPE_PAYMENT_STATUS[event.type];
        return ok(
          await record(orgId, row, 'stripe', { id: event.id, type: event.type, payload: summary, ...(customer ? { resource: customer } : {}) }, (trx) =>
            status && customer
              ? noteProviderStatus(trx, { integrationId: row.id, reference: customer, status, rank: stripeRank, detail: { event_id: event.id, event_type: event.type, amount: amount ?? null, currency: object.currency ?? null } })
              : Promise.resolve(0),
          ),
        );
      });
      return answer ?? notFound('Integration', { integration_id: integrationId });
    },

    /** POST /api/webhooks/twilio/{integrationId}: a message status callback, `X-Twilio-Signature` over the public URL and the form. */
    async twilio(integrationId: string, raw: Buffer, originalUrl: string, signature: string | undefined): Promise<Result<ProviderReceipt, ProviderRefusalCode>> {
      const answer = await withIntegration(integrationId, 'twilio', async (row, orgId) => {
        const creds = openCredentials<{ accountSid: string; authToken?: string }>(deps.box, row);
        if (!creds.authToken) return noSecret('Auth Token (credentials.authToken)');
        if (!signature) return mismatch('X-Twilio-Signature');
        const params = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
        if (!twilio.validateRequest(creds.authToken, signature, `${deps.publicUrl}${originalUrl}`, params)) return mismatch('X-Twilio-Signature');
        const sid = params.MessageSid ?? params.SmsSid;
        const status = params.MessageStatus ?? params.SmsStatus;
        // Signed by this account's token, so a different AccountSid would be Twilio's own mistake: ignore it.
        if (!sid || !status || params.AccountSid !== creds.accountSid) {
          return ok({ eventId: sid ?? 'none', duplicate: false, updated: 0 });
        }
        const detail = { error_code: params.ErrorCode ?? null, ...(params.ErrorMessage ? { error_message: params.ErrorMessage.slice(0, 200) } : {}) };
        return ok(
          await record(orgId, row, 'twilio', { id: `${sid}:${status}`, type: `message.${status}`, payload: { MessageSid: sid, MessageStatus: status, ...detail }, resource: sid }, (trx) =>
            noteProviderStatus(trx, { integrationId: row.id, reference: sid, status, rank: twilioRank, detail }),
          ),
        );
      });
      return answer ?? notFound('Integration', { integration_id: integrationId });
    },
  };
}

export type ProviderReceiver = ReturnType<typeof createProviderReceiver>;
