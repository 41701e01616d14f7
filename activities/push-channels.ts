import crypto from 'node:crypto';
import type { ChangeChannel } from '../connectors/contracts';
import type { Db } from '../db/knex';
import { activeChannels, insertChannel, renewChannel, stopChannel, type PushChannelRow } from '../db/repositories/push-channels';
import { findIntegration } from '../db/repositories/integrations';
import type { ConnectorFactory } from './connector-factory';

/** The calendar providers that push change notifications, and the inbound route each posts to. */
export const PUSH_ROUTES: Readonly<Record<string, string>> = { 'google-calendar': 'google-calendar', 'outlook-calendar': 'microsoft-graph' };

export interface PushChannelDeps {
  /** The worker's role (tourhub_worker). */
  db: Db;
  connectors: ConnectorFactory;
  /** Where providers reach this API (PUBLIC_URL). */
  publicUrl: string;
  /** How long a channel is asked for (WEBHOOK_CHANNEL_TTL); providers may grant less. */
  ttlMs: number;
  now?: () => number;
}

export type EnsuredChannel = { kind: 'active'; renewAt: number } | { kind: 'stopped' };

const asChannel = (row: PushChannelRow): ChangeChannel => ({
  channelId: row.channel_id,
  ...(row.resource_id ? { resourceId: row.resource_id } : {}),
  resource: row.resource,
  expiresAt: row.expires_at.getTime(),
});

/** The pushChannel workflow's activity, run on the provider's queue. */
export function createPushChannelActivities(deps: PushChannelDeps) {
  const now = deps.now ?? Date.now;
  return {
    /**
     * Makes sure the integration has a channel that lives past `renewBeforeMs` from now: keeps it,
     * extends it (Graph), or makes a new one and stops the old (Google). An integration gone, disabled
     * or without push gets its channels stopped, and the workflow ends.
     */
    async ensurePushChannel(input: { integrationId: string; renewBeforeMs: number }): Promise<EnsuredChannel> {
      const row = await findIntegration(deps.db, input.integrationId);
      const channels = await activeChannels(deps.db, input.integrationId);
      const route = row ? PUSH_ROUTES[row.provider] : undefined;
      // A disabled integration still has its credentials: its channels are stopped at the provider too.
      // A deleted one has none; its channels expire, and their notifications find no integration (404).
      const connector = row && route ? deps.connectors.forIntegration<'calendar'>(row) : undefined;
      // Google and Graph post only to https: with a plain-http PUBLIC_URL there is nothing to watch with.
      if (!connector?.watch || !row!.is_active || !deps.publicUrl.startsWith('https://')) {
        for (const c of channels) {
          if (connector?.stopWatch) await connector.stopWatch(asChannel(c)).catch(() => undefined);
          await stopChannel(deps.db, c.id);
        }
        return { kind: 'stopped' };
      }
      const current = channels[0];
      if (current && current.expires_at.getTime() - input.renewBeforeMs > now()) {
        return { kind: 'active', renewAt: current.expires_at.getTime() - input.renewBeforeMs };
      }
      if (current && connector.renewWatch && current.expires_at.getTime() > now()) {
        const { expiresAt } = await connector.renewWatch(asChannel(current), deps.ttlMs);
        await renewChannel(deps.db, current.id, new Date(expiresAt));
        return { kind: 'active', renewAt: expiresAt - input.renewBeforeMs };
      }
      // The token is shown to the provider once and kept only as its hash.
      const token = crypto.randomBytes(32).toString('base64url');
      const made = await connector.watch({
        address: `${deps.publicUrl}/api/webhooks/${route}/${row!.id}`,
        token,
        channelId: crypto.randomUUID(),
        ttlMs: deps.ttlMs,
      });
      await insertChannel(deps.db, {
        organizationId: row!.organization_id,
        integrationId: row!.id,
        provider: row!.provider,
        channelId: made.channelId,
        resourceId: made.resourceId ?? null,
        resource: made.resource,
        tokenHash: crypto.createHash('sha256').update(token).digest('hex'),
        expiresAt: new Date(made.expiresAt),
      });
      // The new channel is live before the old ones stop, so no change falls between them.
      for (const c of channels) {
        if (connector.stopWatch) await connector.stopWatch(asChannel(c)).catch(() => undefined);
        await stopChannel(deps.db, c.id);
      }
      return { kind: 'active', renewAt: made.expiresAt - input.renewBeforeMs };
    },
  };
}

export type PushChannelActivities = ReturnType<typeof createPushChannelActivities>;
