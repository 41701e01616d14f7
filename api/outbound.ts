/**
 * The integrations API's answers for the outbound rules (connectors/outbound.ts): an account address
 * that may not be saved, and the outcome of a connection test. Kept apart from the route modules so
 * each endpoint maps them the same way.
 */
import type { ConnectionTestOutcome } from '../activities/connection-test';
import type { ConnectorError, OutboundRefusal } from '../connectors/errors';
import type { AccountRefusal } from '../connectors/registry';
import { ApiError, notFound } from './middleware/errors';

/** 422 `outbound_address_forbidden`, naming the rule; never the address's answer (there was none). */
export function forbiddenAddress(displayName: string, refusal: Pick<OutboundRefusal, 'rule' | 'host' | 'address' | 'message'>): ApiError {
  return new ApiError(422, 'outbound_address_forbidden', `${displayName} cannot be reached there: ${refusal.message}`, {
    rule: refusal.rule,
    host: refusal.host,
    ...(refusal.address && refusal.address !== refusal.host ? { address: refusal.address } : {}),
  });
}

export function accountRefusal(displayName: string, refusal: AccountRefusal): ApiError {
  if (refusal.kind === 'forbidden') return forbiddenAddress(displayName, refusal.refusal);
  return new ApiError(
    422,
    'credentials_required',
    `Changing ${displayName}'s account host from ${refusal.from} to ${refusal.to} needs the credentials again: send them in the same request`,
    { from_host: refusal.from, to_host: refusal.to, fields: refusal.fields.map((f) => `credentials.${f}`) },
  );
}

function refusedCall(displayName: string, error: ConnectorError): ApiError {
  const details = error.details ?? {};
  if (error.code === 'redirect_refused') {
    return new ApiError(422, 'outbound_redirect_refused', `${displayName} answered with a redirect, which is never followed; check the integration's address`, {
      rule: 'redirect',
      status: error.status ?? null,
      ...(details.location_host ? { location_host: details.location_host } : {}),
    });
  }
  return forbiddenAddress(displayName, {
    rule: details.rule as OutboundRefusal['rule'],
    host: String(details.host ?? ''),
    ...(details.address ? { address: String(details.address) } : {}),
    message: error.message.replace(/^[^:]+: /, ''),
  });
}

/** The body of `POST /api/integrations/:id/test`, or the ApiError for an outcome that is a refusal. */
export function connectionTestBody(integrationId: string, outcome: ConnectionTestOutcome): Record<string, unknown> {
  switch (outcome.kind) {
    case 'not_found':
      throw notFound('Integration', { integration_id: integrationId });
    case 'busy':
      throw new ApiError(429, 'too_many_connection_tests', `At most ${outcome.limit} connection tests run at once for an organisation; try again when one has finished`, { limit: outcome.limit });
    case 'unavailable':
      throw new ApiError(422, outcome.code, outcome.message);
    case 'refused':
      throw refusedCall(outcome.displayName, outcome.error);
    case 'passed':
      return { integration_id: integrationId, ok: true, latency_ms: outcome.latencyMs };
    case 'failed':
      return {
        integration_id: integrationId,
        ok: false,
        latency_ms: outcome.latencyMs,
        // A classified code and a short message (from the vendor's JSON error, if any), never a body.
        error: { code: outcome.error.code, message: outcome.error.message, retryable: outcome.error.retryable, status: outcome.error.status ?? null },
      };
  }
}
