import { createConnectorFactory, IntegrationUnavailable } from '../activities/connector-factory';
import type { DeliveryGuard } from '../connectors/contracts';
import { ConnectorError } from '../connectors/errors';
import type { RefreshGrant } from '../connectors/oauth';
import type { OutboundGuard } from '../connectors/outbound';
import type { Registry } from '../connectors/registry';
import type { Db } from '../db/knex';
import { findIntegration } from '../db/repositories/integrations';
import type { SecretBox } from '../db/secrets';
import { withTenant, type Tenant } from '../db/tenant';
import { refusedCall } from './outbound-refusals';
import { notFound, ok, refuse, type Result } from './result';

/**
 * An admin's "does this integration work?" (`POST /api/integrations/:id/test`): the provider's
 * cheapest read, with two limits the vendor's latency must not break through. The row is read in one
 * short tenant transaction that is over before the vendor is called, so a slow vendor holds a socket,
 * never a pooled database connection. And an organisation runs at most `maxConcurrentPerOrg` tests at
 * once in this process, so one admin's button-mashing (or script) cannot fill the process's sockets.
 */

export interface ConnectionTestDeps {
  /** The API's non-owner connection: RLS decides which integration the admin may test. */
  db: Db;
  box: SecretBox;
  registry: Registry;
  outbound: OutboundGuard;
  timeoutMs: number;
  refreshGrants: Partial<Record<string, RefreshGrant>>;
  maxConcurrentPerOrg: number;
}

/** What the vendor did: a provider's refusal (a revoked key, an outage) is an outcome, not a refusal of ours. */
export type ConnectionTest =
  | { ok: true; latencyMs: number }
  | { ok: false; latencyMs: number; error: { code: string; message: string; retryable: boolean; status: number | null } };

export type ConnectionTestRefusal =
  | 'not_found'
  | 'too_many_connection_tests'
  | IntegrationUnavailable['code']
  /** The guarded HTTP layer refused where the call would have gone (an address, a redirect): nothing reached it. */
  | 'outbound_address_forbidden'
  | 'outbound_redirect_refused';

const REFUSALS = new Set<ConnectorError['code']>(['outbound_forbidden', 'redirect_refused']);

const refuseWrite = async (): Promise<never> => {
  throw new Error('a connection test never writes');
};
/** A connection test only reads: any attempt to record a delivery is a bug. */
const readOnlyGuard: DeliveryGuard = { find: refuseWrite, markAttempted: refuseWrite, markSent: refuseWrite };

export function createConnectionTests(deps: ConnectionTestDeps) {
  const running = new Map<string, number>();

  async function test(tenant: Tenant, integrationId: string): Promise<Result<ConnectionTest, ConnectionTestRefusal>> {
    const row = await withTenant(deps.db, tenant, (trx) => findIntegration(trx, integrationId));
    if (!row) return notFound('Integration', { integration_id: integrationId });
    const factory = createConnectorFactory({
      db: deps.db,
      // Only an OAuth refresh touches the database from here on: under the row lock, as the admin.
      transaction: (fn) => withTenant(deps.db, tenant, fn),
      box: deps.box,
      registry: deps.registry,
      outbound: deps.outbound,
      timeoutMs: deps.timeoutMs,
      refreshGrants: deps.refreshGrants,
      guardFor: () => readOnlyGuard,
    });
    const started = performance.now();
    const latencyMs = () => Math.round(performance.now() - started);
    try {
      await factory.forIntegration(row).ping();
      return ok({ ok: true as const, latencyMs: latencyMs() });
    } catch (err) {
      if (err instanceof IntegrationUnavailable) return refuse(err.code, err.message);
      if (err instanceof ConnectorError) {
        if (REFUSALS.has(err.code)) return refusedCall(deps.registry.get(row.provider)?.displayName ?? row.provider, err);
        // A classified code and a short message (from the vendor's JSON error, if any), never a body.
        return ok({ ok: false as const, latencyMs: latencyMs(), error: { code: err.code, message: err.message, retryable: err.retryable, status: err.status ?? null } });
      }
      throw err;
    }
  }

  return {
    async run(tenant: Tenant, integrationId: string): Promise<Result<ConnectionTest, ConnectionTestRefusal>> {
      const now = running.get(tenant.orgId) ?? 0;
      if (now >= deps.maxConcurrentPerOrg) {
        return refuse(
          'too_many_connection_tests',
          `At most ${deps.maxConcurrentPerOrg} connection tests run at once for an organisation; try again when one has finished`,
          { limit: deps.maxConcurrentPerOrg },
        );
      }
      running.set(tenant.orgId, now + 1);
      try {
        return await test(tenant, integrationId);
      } finally {
        const left = (running.get(tenant.orgId) ?? 1) - 1;
        if (left > 0) running.set(tenant.orgId, left);
        else running.delete(tenant.orgId);
      }
    },
  };
}

export type ConnectionTests = ReturnType<typeof createConnectionTests>;
