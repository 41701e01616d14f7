import type { z } from 'zod';
import { withoutRetiredSettings, type ProviderEntry, type Registry } from '../connectors/registry';
import type { IntegrationRow } from '../db/repositories/integrations';
import { openCredentials } from '../db/repositories/integrations';
import type { SecretBox } from '../db/secrets';
import { ok, refuse, type Result } from './result';

/** The registry entry of a provider id, or a refusal that lists the ones there are. */
export function providerFor(registry: Registry, id: string): Result<ProviderEntry, 'unknown_provider'> {
  const entry = registry.get(id);
  return entry ? ok(entry) : refuse('unknown_provider', `No provider "${id}"`, { known: [...registry.keys()].sort() });
}

/** Checks credentials or settings against the provider's schema. Refusals name the fields, never echo the values: these are secrets. */
export function checkAgainst<Code extends 'invalid_credentials' | 'invalid_settings'>(schema: z.ZodType, value: unknown, code: Code): Result<unknown, Code> {
  const result = schema.safeParse(value);
  if (result.success) return ok(result.data);
  return refuse(code, code === 'invalid_credentials' ? 'Credentials do not match what this provider needs' : 'Settings do not match what this provider accepts', {
    issues: result.error.issues.map((i) => ({ path: i.path.join('.'), code: i.code, message: i.message })),
  });
}

/**
 * Checks credentials or settings as a caller sent them. A key the provider does not take at all (such
 * as the retired `settings.baseUrl`) is an unknown field of the body, refused like one anywhere else
 * (`validation_error`, path `settings` or `credentials`); any other mismatch is the provider's refusal.
 */
export function checkSent<Field extends 'credentials' | 'settings'>(
  schema: z.ZodType,
  value: unknown,
  field: Field,
): Result<unknown, 'validation_error' | (Field extends 'credentials' ? 'invalid_credentials' : 'invalid_settings')> {
  const result = schema.safeParse(value);
  if (result.success) return ok(result.data);
  const unknown = result.error.issues.filter((i) => i.code === 'unrecognized_keys');
  if (unknown.length > 0) {
    return refuse('validation_error', 'Invalid request body', {
      issues: unknown.map((i) => ({ path: [field, ...i.path].join('.'), code: i.code, message: i.message })),
    });
  }
  const code = (field === 'credentials' ? 'invalid_credentials' : 'invalid_settings') as Field extends 'credentials' ? 'invalid_credentials' : 'invalid_settings';
  return checkAgainst(schema, value, code);
}

/** An integration as its admins may see it: the stored row, its provider's name, the zone its routes use, and its credentials masked. */
export interface IntegrationRecord {
  row: IntegrationRow;
  displayName: string;
  /** The organisation's zone: the routes use it unless the integration sets its own. */
  orgTimeZone: string;
  /** The provider's settings, without the retired keys a row saved before may still hold. */
  settings: Record<string, unknown>;
  /** `••••1234` per field; never a value. */
  credentials: Record<string, string>;
}

function mask(value: unknown): string {
  return typeof value === 'string' && value.length >= 12 ? `••••${value.slice(-4)}` : '••••';
}

export function integrationRecord(box: SecretBox, registry: Registry, row: IntegrationRow, orgTimeZone: string): IntegrationRecord {
  let credentials: Record<string, string>;
  try {
    credentials = Object.fromEntries(Object.entries(openCredentials(box, row)).map(([k, v]) => [k, mask(v)]));
  } catch {
    credentials = { error: 'credentials cannot be decrypted with the current keyring' };
  }
  return {
    row,
    displayName: registry.get(row.provider)?.displayName ?? row.provider,
    orgTimeZone,
    settings: withoutRetiredSettings(row.settings.provider),
    credentials,
  };
}
