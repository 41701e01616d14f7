import crypto from 'node:crypto';
import { vetDestination, type OutboundGuard } from '../connectors/outbound';
import { WEBHOOK_HOSTS, WEBHOOK_SENDER } from '../connectors/webhooks/sender';
import type { Db } from '../db/knex';
import type { SecretBox } from '../db/secrets';
import { withTenant, type Tenant } from '../db/tenant';
import {
  deleteSubscription,
  findSubscription,
  findWebhookDelivery,
  insertSubscription,
  listAttempts,
  listSubscriptions,
  listWebhookDeliveries,
  requeueDelivery,
  rewakePending,
  rotateSubscriptionSecret,
  updateSubscription,
  type SubscriptionRow,
} from '../db/repositories/webhook-subscriptions';
import { OUTBOUND_EVENT_TYPES, unknownFilterEntries } from '../domain/webhooks';
import { forbiddenAddress } from './outbound-refusals';
import { notFound, ok, refuse, type Result } from './result';

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64 (the spec takes 24 to 64). */
export function newWebhookSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString('base64')}`;
}

export interface SubscriptionInput {
  url: string;
  events: string[];
  description?: string | null;
}

export type SubscriptionRefusalCode = 'not_found' | 'outbound_address_forbidden' | 'unknown_event_type';

/**
 * Outbound webhook subscriptions of an organisation, for its admins: URLs vetted by the guarded
 * layer's rules when saved (https, a public address after DNS, unless the deployment allows the
 * network), filters checked against the events we send, a secret shown once on create and on rotate.
 */
export function createWebhookSubscriptionService(deps: { db: Db; box: SecretBox; outbound: OutboundGuard; defaultGraceMs: number }) {
  const scoped = <T>(auth: Tenant, fn: Parameters<typeof withTenant<T>>[2]) => withTenant(deps.db, auth, fn);

  async function vet(input: { url?: string; events?: string[] }): Promise<Result<true, 'outbound_address_forbidden' | 'unknown_event_type'>> {
    if (input.events) {
      const unknown = unknownFilterEntries(input.events);
      if (unknown.length > 0) {
        return refuse('unknown_event_type', `No such event type: ${unknown.join(', ')}`, { unknown, known: [...OUTBOUND_EVENT_TYPES, '<group>.*', '*'] });
      }
    }
    if (input.url !== undefined) {
      const refusal = await vetDestination(deps.outbound, WEBHOOK_SENDER, WEBHOOK_HOSTS, input.url);
      if (refusal) return forbiddenAddress('A webhook', refusal);
    }
    return ok(true);
  }

  return {
    list: (auth: Tenant) => scoped(auth, (trx) => listSubscriptions(trx)),

    async get(auth: Tenant, id: string): Promise<Result<SubscriptionRow, 'not_found'>> {
      const row = await scoped(auth, (trx) => findSubscription(trx, id));
      return row ? ok(row) : notFound('Subscription', { subscription_id: id });
    },

    async create(auth: Tenant, input: SubscriptionInput): Promise<Result<{ subscription: SubscriptionRow; secret: string }, Exclude<SubscriptionRefusalCode, 'not_found'>>> {
      const vetted = await vet(input);
      if (!vetted.ok) return vetted;
      const secret = newWebhookSecret();
      const subscription = await scoped(auth, (trx) =>
        insertSubscription(trx, deps.box, { id: crypto.randomUUID(), orgId: auth.orgId, url: input.url, description: input.description ?? null, eventTypes: [...new Set(input.events)], secret }),
      );
      return ok({ subscription, secret });
    },

    async update(
      auth: Tenant,
      id: string,
      patch: Partial<SubscriptionInput> & { status?: 'active' | 'paused' },
    ): Promise<Result<SubscriptionRow, SubscriptionRefusalCode>> {
      const vetted = await vet(patch);
      if (!vetted.ok) return vetted;
      const row = await scoped(auth, async (trx) => {
        const before = await findSubscription(trx, id);
        if (!before) return undefined;
        const after = await updateSubscription(trx, id, {
          ...(patch.url !== undefined ? { url: patch.url } : {}),
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          ...(patch.events !== undefined ? { eventTypes: [...new Set(patch.events)] } : {}),
          ...(patch.status !== undefined && patch.status !== before.status ? { status: patch.status } : {}),
        });
        // Resumed: what waited while it was paused goes out now, in order.
        if (before.status === 'paused' && after?.status === 'active') await rewakePending(trx, id);
        return after;
      });
      return row ? ok(row) : notFound('Subscription', { subscription_id: id });
    },

    async remove(auth: Tenant, id: string): Promise<Result<true, 'not_found'>> {
      return (await scoped(auth, (trx) => deleteSubscription(trx, id))) ? ok(true) : notFound('Subscription', { subscription_id: id });
    },

    /** A new secret; the old one still signs (a second signature) for the grace period. */
    async rotateSecret(auth: Tenant, id: string, graceMs?: number): Promise<Result<{ subscription: SubscriptionRow; secret: string }, 'not_found'>> {
      const secret = newWebhookSecret();
      const row = await scoped(auth, async (trx) => {
        const before = await findSubscription(trx, id);
        return before ? rotateSubscriptionSecret(trx, deps.box, before, secret, graceMs ?? deps.defaultGraceMs) : undefined;
      });
      return row ? ok({ subscription: row, secret }) : notFound('Subscription', { subscription_id: id });
    },

    async deliveries(auth: Tenant, id: string, opts: { limit: number; beforeId?: string }) {
      return scoped(auth, async (trx) => {
        if (!(await findSubscription(trx, id))) return notFound('Subscription', { subscription_id: id });
        return ok(await listWebhookDeliveries(trx, id, opts));
      });
    },

    async attempts(auth: Tenant, subscriptionId: string, deliveryId: string) {
      return scoped(auth, async (trx) => {
        const delivery = await findWebhookDelivery(trx, subscriptionId, deliveryId);
        if (!delivery) return notFound('Delivery', { subscription_id: subscriptionId, delivery_id: deliveryId });
        return ok({ delivery, attempts: await listAttempts(trx, deliveryId) });
      });
    },

    /** Sends a delivery again (any status), same webhook-id, after what is ahead of it in its lane. */
    async resend(auth: Tenant, subscriptionId: string, deliveryId: string): Promise<Result<true, 'not_found' | 'subscription_paused'>> {
      return scoped(auth, async (trx) => {
        const subscription = await findSubscription(trx, subscriptionId);
        const delivery = subscription ? await findWebhookDelivery(trx, subscriptionId, deliveryId) : undefined;
        if (!subscription || !delivery) return notFound('Delivery', { subscription_id: subscriptionId, delivery_id: deliveryId });
        if (subscription.status === 'paused') return refuse('subscription_paused', 'The subscription is paused: resume it first', { subscription_id: subscriptionId });
        await requeueDelivery(trx, deliveryId);
        return ok(true);
      });
    },
  };
}

export type WebhookSubscriptionService = ReturnType<typeof createWebhookSubscriptionService>;
