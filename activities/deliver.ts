import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CategoryConnectors } from '../connectors/contracts';
import { ConnectorError } from '../connectors/errors';
import type { Db } from '../db/knex';
import { ensureDelivery, recordAttempt } from '../db/repositories/deliveries';
import { assessHealth, type HealthThresholds } from '../db/repositories/health';
import { findIntegration } from '../db/repositories/integrations';
import type { Category, DeliveryInput, PlannedAction } from '../domain/hub';
import { IntegrationUnavailable, type ConnectorFactory } from './connector-factory';

export interface DeliveryResult {
  /** What the provider calls the thing it made (activity, event, message id), when it says. */
  reference: string | null;
  /** True when an earlier attempt or a replay had already delivered it: nothing was sent now. */
  alreadyDelivered: boolean;
}

/** Must stay well under the heartbeat timeout the workflows set (workflows/deliveries.ts, 10 s). */
const HEARTBEAT_EVERY_MS = 3_000;

type Executor = (connector: never, input: never, idempotencyKey: string) => Promise<string | null>;

/** How each planned action maps onto its connector's methods. */
const EXECUTORS: { [C in Category]: Record<string, (c: CategoryConnectors[C], input: never, key: string) => Promise<string | null>> } = {
  crm: {
    logActivity: async (c, input, key) => (await c.logActivity(input, { idempotencyKey: key })).activityId,
    createTask: async (c, input, key) => (await c.createTask(input, { idempotencyKey: key })).taskId,
    setCustomFields: async (c, input, key) => {
      await c.setCustomFields(input, { idempotencyKey: key });
      return null;
    },
    addNote: async (c, input, key) => (await c.addNote(input, { idempotencyKey: key })).noteId,
  },
  calendar: {
    createEvent: async (c, input, key) => (await c.createEvent(input, { idempotencyKey: key })).eventId,
  },
  payment: {
    recordSubscriptionInterest: async (c, input: { person: never; metadata: Record<string, string>; plan: string; source: string; occurredAt: string }, key) => {
      const { customerId } = await c.upsertCustomer({ person: input.person, metadata: input.metadata }, { idempotencyKey: `${key}:customer` });
      await c.recordSubscriptionInterest({ customerId, plan: input.plan, source: input.source, occurredAt: input.occurredAt }, { idempotencyKey: key });
      return customerId;
    },
  },
  email: {
    upsertSubscriber: async (c, input, key) => (await c.upsertSubscriber(input, { idempotencyKey: key })).subscriberId,
    triggerSequence: async (c, input, key) => {
      await c.triggerSequence(input, { idempotencyKey: key });
      return null;
    },
  },
  sms: {
    sendMessage: async (c, input, key) => (await c.sendMessage(input, { idempotencyKey: key })).messageId,
  },
};

/** The shape of what was asked, for integration_logs: field names only, never values (personal data). */
export function requestSummary(action: PlannedAction): Record<string, unknown> {
  return { method: `${action.category}.${action.method}`, fields: Object.keys(action.input).sort() };
}

/**
 * One provider call of one tour event, run on the provider's task queue. Retry classes come from the
 * connector's ConnectorError: non-retryable stops at once, retryable honours Retry-After. Every attempt
 * is an integration_logs row; the delivery row says where it stands.
 */
export function createDeliveryActivities(deps: { db: Db; connectors: ConnectorFactory; health: HealthThresholds }) {
  /** Judging health costs a query: only after a failure, or a success of an integration marked degraded. */
  const judge = async (integration: Parameters<typeof assessHealth>[1] & { health: string }, success: boolean) => {
    if (success && integration.health !== 'degraded') return;
    try {
      await assessHealth(deps.db, integration, deps.health);
    } catch {
      // Health is advisory: never fail (and so repeat) a provider call because the judgement failed.
    }
  };
  return {
    async deliver(input: DeliveryInput): Promise<DeliveryResult> {
      const context = Context.current();
      // Alive signals while a slow call runs: an attempt whose worker died (or which the server lost
      // under load) is retried after the heartbeat timeout, not the whole attempt timeout. A call that
      // finishes within the interval sends none.
      const alive = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
      try {
        return await deliverOnce(input, context.info.attempt);
      } finally {
        clearInterval(alive);
      }
    },
  };

  async function deliverOnce(input: DeliveryInput, attempt: number): Promise<DeliveryResult> {
    const integration = await findIntegration(deps.db, input.integrationId);
    if (!integration) throw ApplicationFailure.nonRetryable('The integration was deleted', 'integration_gone');
    if (!integration.is_active) throw ApplicationFailure.nonRetryable('The integration is disabled', 'integration_disabled');
    const asked = requestSummary(input.action);
    const delivery = await ensureDelivery(deps.db, {
      organizationId: integration.organization_id,
      integrationId: integration.id,
      eventId: input.eventId,
      eventType: input.eventType,
      action: `${input.action.category}.${input.action.method}`,
      idempotencyKey: input.idempotencyKey,
      workflowId: input.workflowId,
      payload: asked,
    });
    if (delivery.status === 'succeeded') return { reference: delivery.provider_reference, alreadyDelivered: true };
    // The person's data was erased while this was queued: their details must not reach the provider now.
    if (delivery.status === 'cancelled') throw ApplicationFailure.nonRetryable('The delivery was cancelled (its person\'s data was erased)', 'delivery_cancelled');

    const executor = (EXECUTORS[input.action.category] as Record<string, Executor>)[input.action.method];
    if (!executor) throw ApplicationFailure.nonRetryable(`No executor for ${input.action.category}.${input.action.method}`, 'unknown_action');
    const started = performance.now();
    const base = { delivery, provider: integration.provider, category: integration.type, attempt, requestSummary: asked };
    try {
      const connector = deps.connectors.forIntegration(integration);
      const reference = await executor(connector as never, input.action.input as never, input.idempotencyKey);
      await recordAttempt(deps.db, { ...base, success: true, durationMs: performance.now() - started, providerReference: reference });
      await judge(integration, true);
      return { reference, alreadyDelivered: false };
    } catch (err) {
      const durationMs = performance.now() - started;
      if (err instanceof IntegrationUnavailable) {
        await recordAttempt(deps.db, { ...base, success: false, durationMs, errorClass: err.code, errorMessage: err.message, final: true });
        throw ApplicationFailure.nonRetryable(err.message, err.code);
      }
      if (err instanceof ConnectorError) {
        await recordAttempt(deps.db, {
          ...base,
          success: false,
          durationMs,
          errorClass: err.code,
          errorMessage: err.message,
          ...(err.status !== undefined ? { httpStatus: err.status } : {}),
          final: !err.retryable,
        });
        await judge(integration, false);
        throw ApplicationFailure.create({
          type: err.code,
          message: err.message,
          nonRetryable: !err.retryable,
          details: [err.toJSON()],
          ...(err.retryable && err.retryAfterMs !== undefined ? { nextRetryDelay: err.retryAfterMs } : {}),
        });
      }
      // Our own failures (the database, a bug): retry, the provider was not necessarily called.
      throw err;
    }
  }
}

