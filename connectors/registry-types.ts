import type { z } from 'zod';
import type { SyncFields } from '../domain/conflict';
import type { Category } from '../domain/hub';
import type { CategoryConnectors, DeliveryGuard, OAuthSession } from './contracts';
import type { VendorHttp } from './http';
import type { HostPattern } from './outbound';

export type AuthKind = 'api-key' | 'oauth2' | 'webhook-secret';

export interface ConnectorContext<Credentials, Settings> {
  credentials: Credentials;
  settings: Settings;
  /**
   * The only way out: requests bound to the entry's `hosts` (and the deployment's base URL for this
   * provider, `http.baseUrl`), with the deployment's address rules, no redirects, capped bodies and a
   * timeout (`http.timeoutMs`) on every call.
   */
  http: VendorHttp;
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
  /** Non-secret options (list ids, sequences, an account host). Never a base URL: that is deployment config. */
  settingsSchema: Settings;
  /**
   * Where this provider's calls may go: exact host names or anchored patterns. A request to any other
   * host fails before it is built, so credentials never reach a host the entry does not name.
   */
  hosts: readonly HostPattern[];
  /**
   * The organisation's own address at this vendor, for providers that have one (a HoneyBook catch hook,
   * a Light Blue account host): checked against `hosts` and after DNS when saved, and changing it
   * needs the credentials again.
   */
  accountUrl?(credentials: z.infer<Creds>, settings: z.infer<Settings>): string | undefined;
  /** The provider's published limit for one account; the worker sets the task queue's rate from it. */
  ratePerSecond: number;
  /** Its connector reads what changed (`listChanges`), so two-way sync runs for its integrations. */
  readable?: boolean;
  /**
   * Two-way sync: our values as this provider keeps them once sent (its length limits, its phone
   * format), pure. The comparison looks at ours in this form, so a value the provider could only keep
   * shortened reads as in sync, not as a change a planner made (which would be taken into our record).
   */
  storedForm?(fields: SyncFields): SyncFields;
  /** Where the docs say the limit and the credentials come from. */
  docsUrl: string;
  create(ctx: ConnectorContext<z.infer<Creds>, z.infer<Settings>>): CategoryConnectors[C];
}
