import crypto from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../../db/knex';
import { integrationOrg, withReceiverScope } from '../../db/receiver-scope';
import { findIntegration, type IntegrationRow } from '../../db/repositories/integrations';
import { findActiveChannel } from '../../db/repositories/push-channels';
import { markWebhookEvent, recordWebhookEvent, type WebhookSource } from '../../db/repositories/webhook-events';
import { notFound, ok, refuse, type Result } from '../result';
import type { SyncControl } from '../sync';
import { WorkflowServiceError, type WorkflowServiceErrorCode } from '../temporal';
import { tokenMatches } from '../webhook-signatures';

/**
 * Calendar change notifications: Google Calendar push (a watch channel's id and token in headers) and
 * Microsoft Graph change notifications (a subscription's clientState in each item). Neither says what
 * changed, only that something did, so each is recorded (provider, integration, resource) and asks the
 * sync engine to reconcile that integration (a `syncRequested` signal-with-start of `sync:{integrationId}`,
 * services/sync.ts). The channel's token is the proof: stored only as its hash, compared in constant time.
 */

export const GOOGLE_PROVIDER = 'google-calendar';
export const GRAPH_PROVIDER = 'outlook-calendar';

export interface CalendarPushDeps {
  db: Db;
  sync: Pick<SyncControl, 'request'>;
}

export interface PushReceipt {
  received: number;
  duplicate: boolean;
  syncRequested: boolean;
}

export type PushRefusalCode = 'not_found' | 'invalid_signature' | WorkflowServiceErrorCode;

const badToken = () => refuse('invalid_signature', 'The notification names no channel of this integration, or its token does not match', { reason: 'mismatch' });

/** One item of a Graph notification collection (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks). */
const GraphNotification = z
  .object({
    subscriptionId: z.string().min(1).max(200),
    clientState: z.string().max(255).optional(),
    changeType: z.string().max(50).optional(),
    resource: z.string().max(2000).optional(),
    lifecycleEvent: z.string().max(50).optional(),
    resourceData: z.object({ id: z.string().max(500).optional() }).loose().optional(),
  })
  .loose();
const GraphCollection = z.object({ value: z.array(GraphNotification).min(1).max(1000) }).loose();

export function createCalendarPushReceiver(deps: CalendarPushDeps) {
  async function integration(integrationId: string, provider: string): Promise<{ row: IntegrationRow; orgId: string } | undefined> {
    const orgId = await integrationOrg(deps.db, integrationId);
    if (!orgId) return undefined;
    const row = await withReceiverScope(deps.db, orgId, (trx) => findIntegration(trx, integrationId));
    return row && row.provider === provider ? { row, orgId } : undefined;
  }

  async function sync(integrationId: string, reason: string): Promise<Result<true, WorkflowServiceErrorCode>> {
    try {
      await deps.sync.request(integrationId, { reason });
      return ok(true);
    } catch (err) {
      if (err instanceof WorkflowServiceError) return refuse(err.code, err.message);
      throw err;
    }
  }

  async function recordAll(orgId: string, integrationId: string, source: WebhookSource, events: { id: string; type: string; resource: string; payload: Record<string, unknown> }[]) {
    return withReceiverScope(deps.db, orgId, async (trx) => {
      const ids: string[] = [];
      for (const e of events) {
        const r = await recordWebhookEvent(trx, { organizationId: orgId, webhookId: e.id, eventType: e.type, source, payload: e.payload, integrationId, resource: e.resource });
        if (r.created || r.row.status !== 'processed') ids.push(r.row.id);
      }
      return ids;
    });
  }

  async function processed(orgId: string, ids: string[]) {
    await withReceiverScope(deps.db, orgId, async (trx) => {
      for (const id of ids) await markWebhookEvent(trx, id, 'processed');
    });
  }

  return {
    /** POST /api/webhooks/google-calendar/{integrationId}: a watch channel's notification. */
    async google(integrationId: string, headers: Record<string, string | string[] | undefined>): Promise<Result<PushReceipt, PushRefusalCode>> {
      const h = (name: string) => {
        const v = headers[name];
        return typeof v === 'string' ? v : undefined;
      };
      const found = await integration(integrationId, GOOGLE_PROVIDER);
      if (!found) return notFound('Integration', { integration_id: integrationId });
      const channelId = h('x-goog-channel-id');
      const state = h('x-goog-resource-state');
      if (!channelId || channelId.length > 200 || !state) return badToken();
      const channel = await withReceiverScope(deps.db, found.orgId, (trx) => findActiveChannel(trx, { integrationId, provider: GOOGLE_PROVIDER, channelId }));
      if (!channel || !tokenMatches(h('x-goog-channel-token'), channel.token_hash)) return badToken();
      const number = h('x-goog-message-number') ?? '0';
      const resource = h('x-goog-resource-uri') ?? channel.resource;
      const pending = await recordAll(found.orgId, integrationId, 'google_calendar', [
        {
          id: `${channelId}:${number.slice(0, 40)}`,
          type: `calendar.${state.slice(0, 40)}`,
          resource: resource.slice(0, 2000),
          payload: { channel_id: channelId, resource_state: state, resource_id: h('x-goog-resource-id') ?? null, message_number: number },
        },
      ]);
      // `sync` is the channel's hello, sent once when it is made: nothing changed yet.
      const wantSync = pending.length > 0 && state !== 'sync';
      if (wantSync) {
        const asked = await sync(integrationId, 'google_calendar_push');
        if (!asked.ok) return asked;
      }
      await processed(found.orgId, pending);
      return ok({ received: 1, duplicate: pending.length === 0, syncRequested: wantSync });
    },

    /** The subscription handshake: Graph POSTs `?validationToken=…` and wants it back as text within 10 s. */
    async graphValidation(integrationId: string, token: string): Promise<Result<string, 'not_found'>> {
      const found = await integration(integrationId, GRAPH_PROVIDER);
      return found ? ok(token) : notFound('Integration', { integration_id: integrationId });
    },

    /** POST /api/webhooks/microsoft-graph/{integrationId}: a collection of change notifications. */
    async graph(integrationId: string, raw: Buffer): Promise<Result<PushReceipt, PushRefusalCode>> {
      const found = await integration(integrationId, GRAPH_PROVIDER);
      if (!found) return notFound('Integration', { integration_id: integrationId });
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        return badToken();
      }
      const parsed = GraphCollection.safeParse(json);
      if (!parsed.success) return badToken();
      const items = parsed.data.value;
      // Every item must carry the clientState of an active subscription of this integration: one that
      // does not is not from Graph, and the whole request is refused unrecorded.
      const channels = await withReceiverScope(deps.db, found.orgId, async (trx) => {
        const out = new Map<string, Awaited<ReturnType<typeof findActiveChannel>>>();
        for (const id of new Set(items.map((i) => i.subscriptionId))) out.set(id, await findActiveChannel(trx, { integrationId, provider: GRAPH_PROVIDER, channelId: id }));
        return out;
      });
      for (const item of items) {
        const channel = channels.get(item.subscriptionId);
        if (!channel || !tokenMatches(item.clientState, channel.token_hash)) return badToken();
      }
      // Graph sends no id of its own: a redelivered notification is the same bytes, so its hash is its id.
      const events = items.map((item) => {
        const { clientState: _secret, ...kept } = item;
        return {
          id: crypto.createHash('sha256').update(JSON.stringify(kept)).digest('hex'),
          type: `calendar.${(item.lifecycleEvent ?? item.changeType ?? 'changed').slice(0, 40)}`,
          resource: (item.resource ?? channels.get(item.subscriptionId)!.resource).slice(0, 2000),
          payload: kept as Record<string, unknown>,
        };
      });
      const pending = await recordAll(found.orgId, integrationId, 'microsoft_graph', events);
      if (pending.length > 0) {
        const asked = await sync(integrationId, 'microsoft_graph_notification');
        if (!asked.ok) return asked;
      }
      await processed(found.orgId, pending);
      return ok({ received: items.length, duplicate: pending.length === 0, syncRequested: pending.length > 0 });
    },
  };
}

export type CalendarPushReceiver = ReturnType<typeof createCalendarPushReceiver>;
