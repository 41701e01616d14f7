import type { z } from 'zod';
import type { Category } from '../domain/hub';
import type { CategoryConnectors, DeliveryGuard, OAuthSession } from './contracts';

export type AuthKind = 'api-key' | 'oauth2' | 'webhook-secret';

export interface ConnectorContext<Credentials, Settings> {
  credentials: Credentials;
  settings: Settings;
  /** Per-call timeout in milliseconds. */
  timeoutMs: number;
  guard: DeliveryGuard;
  /** Present for oauth2 providers. */
  oauth?: OAuthSession;
  /** Epoch milliseconds; injectable so signatures and dates are testable. */
  now: () => number;
}

export interface ProviderEntry<C extends Category = Category, Creds extends z.ZodType = z.ZodType, Settings extends z.ZodType = z.ZodType> {
  id: string;
  category: C;
  displayName: string;
  auth: AuthKind;
  /** Secrets: validated on write, encrypted at rest, never returned. */
  credentialsSchema: Creds;
  /** Non-secret options (base URL override, list ids, field mapping). */
  settingsSchema: Settings;
  /** The provider's published limit for one account; the worker sets the task queue's rate from it. */
  ratePerSecond: number;
  /** Where the docs say the limit and the credentials come from. */
  docsUrl: string;
  create(ctx: ConnectorContext<z.infer<Creds>, z.infer<Settings>>): CategoryConnectors[C];
}
