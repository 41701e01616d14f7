import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CategoryConnectors } from '../connectors/contracts';
import { ConnectorError } from '../connectors/errors';
import type { Db } from '../db/knex';
import { ensureDelivery, recordAttempt } from '../db/repositories/deliveries';
import { assessHealth, claimProbe, DEFAULT_PROBE_INTERVAL_MS, recordRecovery, type HealthThresholds } from '../db/repositories/health';
import { findIntegration, type IntegrationRow } from '../db/repositories/integrations';
import { admission, CIRCUIT_OPEN } from '../domain/breaker';
import type { Category, DeliveryInput, PlannedAction } from '../domain/hub';
import { alertFailure, noteCompletionDelivered } from './alerts';
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
    upsertContact: async (c, input: { person: never }, key) => (await c.upsertContact(input.person, { idempotencyKey: key })).contactId,
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
    updateEvent: async (c, input: { eventId: string; event: never }, key) => (await c.updateEvent(input.eventId, input.event, { idempotencyKey: key })).eventId,
  },
  payment: {
    recordSubscriptionInterest: async (c, input: { person: never; metadata: Record<string, string>; plan: string; source: string; occurredAt: string }, key) => {
      const { customerId } = await c.upsertCustomer({ person: input.person, metadata: input.metadata }, { idempotencyKey: `${key}:customer` });
      await c.recordSubscriptionInterest({ customerId, plan: input.plan, source: input.source, occurredAt: input.occurredAt }, { idempotencyKey: key });
      return customerId;
    },
    upsertCustomer: async (c, input, key) => (await c.upsertCustomer(input, { idempotencyKey: key })).customerId,
  },
  email: {
    upsertSubscriber: async (c, input, key) => (await c.upsertSubscriber(input, { idempotencyKey: key })).subscriberId,
    addTags: async (c, input, key) => {
      await c.addTags(input, { idempotencyKey: key });
      return null;
    },
    triggerSequence: async (c, input, key) => {
      await c.triggerSequence(input, { idempotencyKey: key });
      return null;
    },
  },
  sms: {
    sendMessage: async (c, input, key) => (await c.sendMessage(input, { idempotencyKey: key })).messageId,
  },
};

/** A connector's failure as the activity's: its code as the type, its retry class, Retry-After as the next delay. */
export function activityFailure(err: ConnectorError): ApplicationFailure {
  return ApplicationFailure.create({
    type: err.code,
    message: err.message,
    nonRetryable: !err.retryable,
    details: [err.toJSON()],
    ...(err.retryable && err.retryAfterMs !== undefined ? { nextRetryDelay: err.retryAfterMs } : {}),
  });
}

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

  /**
   * The integration's circuit breaker: closed, the call goes ahead; open, only the caller that claims the
   * due probe makes it (returns true), and every other call is held back with `circuit_open`, which the
   * workflow that owns the call answers by waiting, durably, and sending it again. Nothing is sent and no
   * attempt is logged for a held-back call, so a paused provider's health is judged on probes only.
   */
  async function admit(integration: IntegrationRow): Promise<boolean> {
    const probeIntervalMs = deps.health.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    const now = Date.now();
    const decision = admission({ state: integration.breaker_state, nextProbeAt: integration.breaker_next_probe_at?.getTime() ?? null }, now);
    if (decision.kind === 'call') return false;
    if (decision.kind === 'probe' && (await claimProbe(deps.db, integration.id, probeIntervalMs))) return true;
    const until = decision.kind === 'wait' ? decision.until : now + probeIntervalMs;
    throw ApplicationFailure.create({
      type: CIRCUIT_OPEN,
      message: `${integration.provider} is paused after it was judged degraded; calls wait for a probe to succeed`,
      nonRetryable: true,
      details: [{ retryAt: until, probeIntervalMs }],
    });
  }

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
    const probe = await admit(integration);

    const executor = (EXECUTORS[input.action.category] as Record<string, Executor>)[input.action.method];
    if (!executor) throw ApplicationFailure.nonRetryable(`No executor for ${input.action.category}.${input.action.method}`, 'unknown_action');
    const started = performance.now();
    const base = { delivery, provider: integration.provider, category: integration.type, attempt, requestSummary: asked };
    try {
      const connector = deps.connectors.forIntegration(integration);
      const reference = await executor(connector as never, input.action.input as never, input.idempotencyKey);
      await recordAttempt(deps.db, { ...base, success: true, durationMs: performance.now() - started, providerReference: reference });
      if (probe) await recordRecovery(deps.db, integration, { reason: 'probe' });
      else await judge(integration, true);
      await noteCompletionDelivered(deps.db, delivery).catch(() => undefined);
      return { reference, alreadyDelivered: false };
    } catch (err) {
      const durationMs = performance.now() - started;
      if (err instanceof IntegrationUnavailable) {
        await recordAttempt(deps.db, { ...base, success: false, durationMs, errorClass: err.code, errorMessage: err.message, final: true });
        await alertFailure(deps.db, integration, delivery, err.code).catch(() => undefined);
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
        if (!err.retryable) await alertFailure(deps.db, integration, delivery, err.code).catch(() => undefined);
        throw activityFailure(err);
      }
      // Our own failures (the database, a bug): retry, the provider was not necessarily called.
      throw err;
    }
  }
}

