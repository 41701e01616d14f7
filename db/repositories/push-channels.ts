import type { Knex } from 'knex';

/** A calendar change-notification channel: a Google watch channel or a Microsoft Graph subscription. */
export interface PushChannelRow {
  id: string;
  organization_id: string;
  integration_id: string;
  provider: string;
  channel_id: string;
  resource_id: string | null;
  resource: string;
  token_hash: string;
  expires_at: Date;
  status: 'active' | 'stopped';
  created_at: Date;
  updated_at: Date;
}

/** The active channel a notification names, of this integration only. `db` may be a receiver transaction. */
export async function findActiveChannel(db: Knex, key: { integrationId: string; provider: string; channelId: string }): Promise<PushChannelRow | undefined> {
  return db('push_channels').where({ integration_id: key.integrationId, provider: key.provider, channel_id: key.channelId, status: 'active' }).first();
}

/** The worker's connection: the integration's active channels, newest first. */
export async function activeChannels(db: Knex, integrationId: string): Promise<PushChannelRow[]> {
  return db('push_channels').where({ integration_id: integrationId, status: 'active' }).orderBy('expires_at', 'desc');
}

export async function insertChannel(
  db: Knex,
  c: { organizationId: string; integrationId: string; provider: string; channelId: string; resourceId: string | null; resource: string; tokenHash: string; expiresAt: Date },
): Promise<PushChannelRow> {
  const [row] = await db('push_channels')
    .insert({
      organization_id: c.organizationId,
      integration_id: c.integrationId,
      provider: c.provider,
      channel_id: c.channelId,
      resource_id: c.resourceId,
      resource: c.resource,
      token_hash: c.tokenHash,
      expires_at: c.expiresAt,
    })
    .returning('*');
  return row as PushChannelRow;
}

export async function renewChannel(db: Knex, id: string, expiresAt: Date): Promise<void> {
  await db('push_channels').where({ id }).update({ expires_at: expiresAt, updated_at: db.fn.now() });
}

export async function stopChannel(db: Knex, id: string): Promise<void> {
  await db('push_channels').where({ id }).update({ status: 'stopped', updated_at: db.fn.now() });
}

/**
 * The worker's connection: active calendar integrations of these providers that have no active channel
 * expiring after `until`, for the sweep that (re)starts their pushChannel workflows.
 */
export async function integrationsNeedingChannels(db: Knex, providers: readonly string[], until: Date): Promise<{ id: string; provider: string }[]> {
  const rows: { id: string; provider: string }[] = await db('organization_integrations as i')
    .select('i.id', 'i.provider')
    .where('i.is_active', true)
    .whereIn('i.provider', providers)
    .whereNotExists(function () {
      this.select(db.raw('1')).from('push_channels as c').whereRaw('c.integration_id = i.id').andWhere('c.status', 'active').andWhere('c.expires_at', '>', until);
    })
    .limit(500);
  return rows;
}
