import { z } from 'zod';
import { ConnectorError } from '../../connectors/errors';
import type { DeliveryGuard, OAuthSession } from '../../connectors/contracts';
import { vendorHttp } from '../../connectors/http';
import { createOutboundGuard, type OutboundGuard } from '../../connectors/outbound';
import type { ConnectorContext, ProviderEntry } from '../../connectors/registry-types';

/** A DeliveryGuard in memory, with its records visible to assertions. */
export function memoryGuard(): DeliveryGuard & { records: Map<string, { state: 'attempted' | 'sent'; reference?: string }> } {
  const records = new Map<string, { state: 'attempted' | 'sent'; reference?: string }>();
  return {
    records,
    async find(key) {
      return records.get(key) ?? null;
    },
    async markAttempted(key) {
      if (!records.has(key)) records.set(key, { state: 'attempted' });
    },
    async markSent(key, reference) {
      records.set(key, { state: 'sent', reference });
    },
  };
}

/** A fixed-token OAuth session that counts refreshes. */
export function staticOAuth(token = 'access-token-1', refreshed = 'access-token-2'): OAuthSession & { refreshes: number } {
  let current = token;
  const session = {
    refreshes: 0,
    async accessToken() {
      return current;
    },
    async refresh() {
      session.refreshes++;
      current = refreshed;
      return current;
    },
  };
  return session;
}

let loopbackGuard: OutboundGuard | undefined;
/**
 * The outbound rules connector tests run under: the product's, plus loopback allowed, as a deployment
 * that points a provider at a loopback fake (CONNECTOR_BASE_URLS) would set OUTBOUND_ALLOWED_NETWORKS.
 */
export function testOutbound(): OutboundGuard {
  loopbackGuard ??= createOutboundGuard({ allowedNetworks: ['127.0.0.0/8'] });
  return loopbackGuard;
}

export interface ContextExtras<C, S> extends Partial<Omit<ConnectorContext<C, S>, 'http'>> {
  timeoutMs?: number;
  /** The deployment's base URL for this provider (CONNECTOR_BASE_URLS): a loopback fake. */
  baseUrl?: string;
  outbound?: OutboundGuard;
}

/** What the connector factory hands `entry.create`: the HTTP layer bound to the entry's hosts. */
export function context<C, S>(entry: Pick<ProviderEntry, 'id' | 'hosts'>, credentials: C, settings: S, extra: ContextExtras<C, S> = {}): ConnectorContext<C, S> {
  const { timeoutMs = 10_000, baseUrl, outbound = testOutbound(), ...rest } = extra;
  return {
    credentials,
    settings,
    http: vendorHttp({ provider: entry.id, hosts: entry.hosts, guard: outbound, timeoutMs, ...(baseUrl !== undefined ? { baseUrl } : {}) }),
    guard: memoryGuard(),
    now: () => Date.parse('2026-11-23T12:00:00Z'),
    ...rest,
  };
}

/** The ConnectorError a call rejects with (failing the test if it resolves or throws anything else). */
export async function connectorFailure(promise: Promise<unknown>): Promise<ConnectorError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectorError);
  return err as ConnectorError;
}

/**
 * An OAuth provider of our own making for the API's consent tests: a calendar connected through a
 * consent screen, whose connector is never called.
 */
export const fakeCalendar: ProviderEntry = {
  id: 'fake-calendar',
  category: 'calendar',
  displayName: 'Fake Calendar',
  auth: 'oauth2',
  credentialsSchema: z.strictObject({ accessToken: z.string(), refreshToken: z.string().optional(), expiresAt: z.number().optional(), scope: z.string().optional() }),
  settingsSchema: z.strictObject({ calendarId: z.string().default('primary') }),
  hosts: ['api.fake-calendar.example'],
  ratePerSecond: 10,
  docsUrl: 'https://example.invalid/docs',
  create: () => ({}) as never,
};
