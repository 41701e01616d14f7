import type { Knex } from 'knex';
import type { StoredRouteSettings } from '../../domain/routes';
import { isSealed, type SealedSecret, type SecretBox } from '../secrets';

export interface IntegrationSettings {
  /** The provider's own settings, validated by its settingsSchema. */
  provider: Record<string, unknown>;
  /** Our field names -> the provider's custom field names. */
  field_mapping: Record<string, string>;
  /** Tour events this integration reacts to; empty means all. */
  enabled_events: string[];
  /** IANA zone for due dates and bookings; defaults to the organisation's. */
  time_zone?: string;
  /** Overrides of the seed's route defaults (days, hours, SMS welcome), snake_case as the API takes them. */
  routes?: RouteSettings;
}

/** Overrides of the seed's route defaults; the shape domain/routes.ts reads. */
export type RouteSettings = NonNullable<StoredRouteSettings['routes']>;

export interface IntegrationRow {
  id: string;
  organization_id: string;
  type: string;
  provider: string;
  settings: IntegrationSettings;
  credentials: SealedSecret;
  is_active: boolean;
  health: 'healthy' | 'degraded' | 'disabled';
  /** The circuit breaker (domain/breaker.ts): open while degraded, until a probe succeeds. */
  breaker_state: 'closed' | 'open';
  breaker_next_probe_at: Date | null;
  last_sync_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = [
  'id', 'organization_id', 'type', 'provider', 'settings', 'credentials', 'is_active', 'health', 'breaker_state', 'breaker_next_probe_at',
  'last_sync_at', 'created_at', 'updated_at',
];

/** The AAD that binds a ciphertext to its integration: copied into another row, it will not decrypt. */
export function credentialsAad(row: { id: string; organization_id: string }): string {
  return `organization_integrations:${row.organization_id}:${row.id}`;
}

export async function listIntegrations(db: Knex): Promise<IntegrationRow[]> {
  return db('organization_integrations').select(COLUMNS).orderBy([{ column: 'type' }, { column: 'provider' }]);
}

/** The organisation's enabled integrations, in a stable order (the order deliveries are planned in). */
export async function listActiveIntegrations(db: Knex, orgId: string): Promise<IntegrationRow[]> {
  return db('organization_integrations').select(COLUMNS).where({ organization_id: orgId, is_active: true }).orderBy([{ column: 'type' }, { column: 'provider' }, { column: 'id' }]);
}

export async function findIntegration(db: Knex, id: string): Promise<IntegrationRow | undefined> {
  return db('organization_integrations').select(COLUMNS).where({ id }).first();
}

/** An organisation's integration of one provider (one at most per organisation); in a tenant transaction, the caller's. */
export async function findIntegrationByProvider(db: Knex, key: { type: string; provider: string }): Promise<IntegrationRow | undefined> {
  return db('organization_integrations').select(COLUMNS).where({ type: key.type, provider: key.provider }).first();
}

export async function insertIntegration(
  db: Knex,
  box: SecretBox,
  input: { id: string; organizationId: string; type: string; provider: string; settings: IntegrationSettings; credentials: unknown; isActive: boolean },
): Promise<IntegrationRow> {
  const sealed = box.seal(input.credentials, credentialsAad({ id: input.id, organization_id: input.organizationId }));
  const [row] = await db('organization_integrations')
    .insert({
      id: input.id,
      organization_id: input.organizationId,
      type: input.type,
      provider: input.provider,
      settings: JSON.stringify(input.settings),
      credentials: JSON.stringify(sealed),
      is_active: input.isActive,
    })
    .returning(COLUMNS);
  return row;
}

export async function updateIntegration(
  db: Knex,
  box: SecretBox,
  row: IntegrationRow,
  patch: { settings?: IntegrationSettings; credentials?: unknown; isActive?: boolean },
): Promise<IntegrationRow> {
  const [updated] = await db('organization_integrations')
    .where({ id: row.id })
    .update({
      ...(patch.settings ? { settings: JSON.stringify(patch.settings) } : {}),
      ...(patch.credentials !== undefined ? { credentials: JSON.stringify(box.seal(patch.credentials, credentialsAad(row))) } : {}),
      // Enabling or disabling starts the integration afresh: healthy (or disabled), its breaker closed.
      ...(patch.isActive !== undefined
        ? { is_active: patch.isActive, health: patch.isActive ? 'healthy' : 'disabled', breaker_state: 'closed', breaker_opened_at: null, breaker_next_probe_at: null }
        : {}),
      updated_at: db.fn.now(),
    })
    .returning(COLUMNS);
  return updated;
}

export async function deleteIntegration(db: Knex, id: string): Promise<boolean> {
  return (await db('organization_integrations').where({ id }).delete()) > 0;
}

export function openCredentials<T = Record<string, unknown>>(box: SecretBox, row: IntegrationRow): T {
  if (!isSealed(row.credentials)) throw new Error(`integration ${row.id} holds credentials that are not sealed`);
  return box.open<T>(row.credentials, credentialsAad(row));
}

/** Runs `fn` in a transaction: `db.transaction`, or one that first sets a tenant (RLS). */
export type Transactor = <R>(fn: (trx: Knex.Transaction) => Promise<R>) => Promise<R>;

/**
 * Runs `fn` on the integration's decrypted credentials under a row lock and writes back what it returns,
 * sealed with the active key. This is what makes concurrent OAuth refreshes in several workers collapse.
 */
export async function withLockedCredentials<T>(
  transaction: Transactor,
  box: SecretBox,
  id: string,
  fn: (credentials: T) => Promise<T>,
): Promise<T> {
  return transaction(async (trx) => {
    const row = (await trx('organization_integrations').select(COLUMNS).where({ id }).forUpdate().first()) as IntegrationRow | undefined;
    if (!row) throw new Error(`integration ${id} no longer exists`);
    const current = openCredentials<T>(box, row);
    const next = await fn(current);
    if (next !== current) {
      await trx('organization_integrations')
        .where({ id })
        .update({ credentials: JSON.stringify(box.seal(next, credentialsAad(row))), updated_at: trx.fn.now() });
    }
    return next;
  });
}

/**
 * Re-encrypts every row not sealed with the active key (all organisations: run with the owner
 * connection). A row the keyring cannot open is reported, not fatal: one bad row must not leave the
 * rest on a key that is about to be removed.
 */
export async function reencryptAll(
  db: Knex,
  box: SecretBox,
): Promise<{ reencrypted: number; total: number; failed: { id: string; reason: string }[] }> {
  const ids: string[] = await db('organization_integrations').pluck('id');
  let reencrypted = 0;
  const failed: { id: string; reason: string }[] = [];
  for (const id of ids) {
    try {
      await db.transaction(async (trx) => {
        const row = (await trx('organization_integrations').select(COLUMNS).where({ id }).forUpdate().first()) as IntegrationRow | undefined;
        if (!row || (isSealed(row.credentials) && row.credentials.kid === box.activeKeyId)) return;
        const plain = openCredentials(box, row);
        await trx('organization_integrations').where({ id }).update({ credentials: JSON.stringify(box.seal(plain, credentialsAad(row))) });
        reencrypted++;
      });
    } catch (err) {
      failed.push({ id, reason: (err as Error).message });
    }
  }
  return { reencrypted, total: ids.length, failed };
}
