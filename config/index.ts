import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import type { HubSettings } from '../domain/hub';

/**
 * The one place that reads the environment. Everything else receives a `Config`.
 * A bad or missing variable stops the process with the variable's name and what it expects,
 * because a half-configured hub silently dropping CRM updates is worse than not starting.
 */

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** `250ms`, `30s`, `15m`, `24h`, `7d` (or bare milliseconds) -> milliseconds. */
const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(v.trim());
      if (!m) {
        ctx.addIssue({ code: 'custom', message: 'a duration such as 250ms, 30s, 15m, 24h or 7d' });
        return z.NEVER;
      }
      return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
    });
const durationList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const parts = v.split(',').map((p) => p.trim()).filter(Boolean);
      const out: number[] = [];
      for (const p of parts) {
        const parsed = duration('0').safeParse(p);
        if (!parsed.success || parsed.data <= 0) {
          ctx.addIssue({ code: 'custom', message: 'comma-separated durations such as 1d,7d,14d,30d' });
          return z.NEVER;
        }
        out.push(parsed.data);
      }
      return out;
    });

/**
 * `provider=url,provider=url`: where a provider's calls go instead of the vendor's host. Deployment
 * config only (loopback fakes in tests, a vendor sandbox); no API request can set it.
 */
const baseUrlMap = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const out: Record<string, string> = {};
    for (const part of (v ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
      const m = /^([a-z0-9][a-z0-9-]*)=(.+)$/.exec(part);
      let url: URL | undefined;
      try {
        url = m ? new URL(m[2]!) : undefined;
      } catch {
        url = undefined;
      }
      if (!m || !url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) {
        ctx.addIssue({ code: 'custom', message: 'comma-separated provider=url pairs, e.g. tave=http://127.0.0.1:4011/api/v2 (http or https, no credentials in the URL)' });
        return z.NEVER;
      }
      out[m[1]!] = m[2]!.replace(/\/$/, '');
    }
    return out;
  });

/** `127.0.0.0/8,::1/128` or single addresses: networks outbound calls may reach despite the address rules. */
const networkList = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const parts = (v ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    for (const p of parts) {
      if (!(p.includes('/') ? ipaddr.isValidCIDR(p) : ipaddr.isValid(p))) {
        ctx.addIssue({ code: 'custom', message: 'comma-separated CIDRs or addresses, e.g. 127.0.0.0/8,::1/128' });
        return z.NEVER;
      }
    }
    return parts;
  });

/** `http://localhost:8233,https://temporal.example.com`: browser origins (scheme, host, port; no path). */
const originList = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const out: string[] = [];
    for (const part of (v ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
      let url: URL | undefined;
      try {
        url = new URL(part);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== part.replace(/\/$/, '')) {
        ctx.addIssue({ code: 'custom', message: 'comma-separated origins such as http://localhost:8233 (scheme, host and port only)' });
        return z.NEVER;
      }
      out.push(url.origin);
    }
    return out;
  });

const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\/.+/, 'a postgres:// or postgresql:// connection URL');

/**
 * What docs/configuration.md says about a variable: its meaning, and the default as a person should read it
 * when the schema's own default is not the whole story (derived from another variable, or a generated
 * file). `npm run docs:config` writes the table from these; test/hygiene/config-docs.test.ts fails when the
 * table and the schema differ.
 */
export type VariableDoc = { description: string; shownDefault?: string };
const doc = (description: string, shownDefault?: string): VariableDoc => (shownDefault === undefined ? { description } : { description, shownDefault });

export const envSchema = z
  .object({
    TOURHUB_ENV: z
      .enum(['development', 'test', 'production'])
      .default('development')
      .meta(
        doc(
          '`production` requires `JWT_SECRET` or `JWT_JWKS_URL`, `TOURHUB_SECRET_KEYS`, `DATABASE_URL`, `DATABASE_APP_URL` or `DATABASE_APP_PASSWORD`, and `DATABASE_WORKER_URL` or `DATABASE_WORKER_PASSWORD`, and refuses the development defaults of each ([production checklist](operations.md#production-checklist)); otherwise a JWT secret and a keyring are generated into the data folder',
        ),
      ),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .meta(doc("pino level; tokens and credentials are redacted. `debug` and `trace` also pass on the Temporal SDK's debug lines (otherwise its warnings and errors)")),
    LOG_FORMAT: z
      .enum(['auto', 'json', 'pretty'])
      .default('auto')
      .meta(doc('`auto`: one readable line per event when stdout is a terminal, JSON lines otherwise; `json` or `pretty` force either')),
    HOST: z.string().min(1).default('127.0.0.1').meta(doc('API listener address (`0.0.0.0` in a container)')),
    PORT: port(3000).meta(doc('API listener port')),
    TOURHUB_DATA_DIR: z
      .string()
      .min(1)
      .default('.tourhub')
      .meta(doc("the embedded Postgres (`postgres/`), the dev server's SQLite file (`temporal.db`), and outside production the generated `jwt-secret` and `secret-keys`")),

    DATABASE_URL: postgresUrl
      .optional()
      .or(z.literal('').transform(() => undefined))
      .meta(doc("owner connection (migrations, the CLI; the API and the worker derive their roles' connections from it); unset: the embedded Postgres in the data folder, which `tourhub dev` starts", 'embedded')),
    DATABASE_APP_URL: postgresUrl
      .optional()
      .or(z.literal('').transform(() => undefined))
      .meta(doc("the API's connection as the non-owner role `tourhub_app`, so row-level security applies to every request", '`DATABASE_URL` as `tourhub_app`')),
    DATABASE_APP_PASSWORD: optionalString.meta(
      doc('password of `tourhub_app` when `DATABASE_APP_URL` is unset; `tourhub migrate` (and `tourhub dev`) set it on the role', '`tourhub_app` outside production'),
    ),
    DATABASE_WORKER_URL: postgresUrl
      .optional()
      .or(z.literal('').transform(() => undefined))
      .meta(doc("the worker's connection as the least-privileged role `tourhub_worker` (only what its activities read and write)", '`DATABASE_URL` as `tourhub_worker`')),
    DATABASE_WORKER_PASSWORD: optionalString.meta(
      doc('password of `tourhub_worker` when `DATABASE_WORKER_URL` is unset; `tourhub migrate` (and `tourhub dev`) set it on the role', '`tourhub_worker` outside production'),
    ),
    DATABASE_POOL_MAX: positiveInt(10).meta(doc("connections in the API's pool and in the worker's")),
    EMBEDDED_PG_PORT: port(54329).meta(doc('port of the embedded Postgres')),

    TEMPORAL_ADDRESS: z
      .string()
      .regex(/^[^\s:]+:\d+$/, 'host:port')
      .optional()
      .meta(doc('a Temporal frontend; setting it makes `tourhub dev` use that server instead of starting one', '`127.0.0.1:$TEMPORAL_DEV_PORT`')),
    TEMPORAL_DEV_PORT: port(7233).meta(doc('where `tourhub dev` starts the Temporal dev server')),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default').meta(doc("the tours' namespace; `tourhub dev` creates it on its dev server")),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('tours').meta(doc('task queue of the tour and replay workflows (providers have their own, `provider-{id}`)')),
    TEMPORAL_UI_PORT: port(8233).meta(doc("the dev server's Web UI")),
    TEMPORAL_CLI_PATH: optionalString.meta(doc('a `temporal` binary to use instead of finding or installing one; it must work, there is no fallback')),
    TEMPORAL_TEST_SERVER_PATH: optionalString.meta(doc('a time-skipping test server binary (`tourhub temporal-path --test-server`)')),
    TOURHUB_WORKFLOW_BUNDLE: optionalString.meta(doc('a prebuilt workflow bundle; unset: the worker bundles `workflows/` when it starts')),
    TEMPORAL_TLS: z
      .enum(['true', 'false'])
      .default('false')
      .meta(doc('`true`: connect to Temporal over TLS with the system CAs (Temporal Cloud with an API key); the certificate variables below switch TLS on by themselves')),
    TEMPORAL_TLS_CERT_PATH: optionalString.meta(doc('PEM client certificate for mTLS to Temporal (with `TEMPORAL_TLS_KEY_PATH`)')),
    TEMPORAL_TLS_KEY_PATH: optionalString.meta(doc('PEM private key of the client certificate')),
    TEMPORAL_TLS_CA_PATH: optionalString.meta(doc("PEM CA that signed the Temporal frontend's certificate, when the system does not trust it")),
    TEMPORAL_TLS_SERVER_NAME: optionalString.meta(doc("the name the frontend's certificate is checked against (SNI), when it is not the host of `TEMPORAL_ADDRESS`")),
    TEMPORAL_API_KEY: optionalString.meta(doc('API key sent to Temporal (Temporal Cloud); switches TLS on')),
    TEMPORAL_PAYLOAD_CODEC: z
      .enum(['on', 'off'])
      .default('on')
      .meta(
        doc(
          "`off` sends payloads to Temporal unencrypted: only for a benchmark that weighs the codec (`npm run bench -- --compare codec`); refused when `TOURHUB_ENV=production`. Every process of a deployment must agree: a worker without the codec cannot read what a client with it sent",
        ),
      ),

    JWT_SECRET: z
      .string()
      .min(32, 'at least 32 characters')
      .optional()
      .meta(doc('HS256 secret, at least 32 characters', 'generated into `$TOURHUB_DATA_DIR/jwt-secret` outside production')),
    JWT_JWKS_URL: z
      .url({ protocol: /^https?$/, message: 'an http or https URL' })
      .optional()
      .meta(doc("an identity provider's JWKS (RS, PS, ES or EdDSA keys) instead of a shared secret; https when `TOURHUB_ENV=production`")),
    JWT_ISSUER: z.string().min(1).default('tourhub').meta(doc('required `iss` of tokens')),
    JWT_AUDIENCE: z.string().min(1).default('tourhub-api').meta(doc('required `aud` of tokens')),
    MEMBERSHIP_CACHE_TTL: duration('30s')
      .pipe(z.number().max(300_000, 'at most 5m'))
      .meta(
        doc(
          "how long an API process trusts a member's role (from `organization_members`) before asking Postgres again, at most 5m; a removed member or a changed role takes effect within this time. `0` asks on every request",
        ),
      ),

    TOURHUB_SECRET_KEYS: optionalString.meta(
      doc('comma-separated `kid:base64(32 bytes)` keys that encrypt provider credentials (AES-256-GCM)', 'generated into `$TOURHUB_DATA_DIR/secret-keys` outside production'),
    ),
    TOURHUB_ACTIVE_SECRET_KEY: optionalString.meta(doc('the key id new secrets are sealed with', 'the last key listed')),
    TEMPORAL_UI_ORIGIN: originList.meta(
      doc(
        "comma-separated origins of the Temporal Web UI that may call the codec endpoint (`/codec/decode`, `/codec/encode`) from the browser; list both `localhost` and `127.0.0.1` if operators use either",
        '`http://localhost:$TEMPORAL_UI_PORT`',
      ),
    ),
    CODEC_ADMIN_ORG_ID: z
      .uuid()
      .optional()
      .meta(doc("only admins of this organisation (the operators') may use the codec endpoint; unset: an admin of any organisation", 'any organisation')),
    PUBLIC_URL: z.string().url().optional().meta(doc('where browsers reach the API: OAuth redirect URIs are built from it', '`http://localhost:$PORT`')),
    CONNECTOR_TIMEOUT_MS: positiveInt(10_000).meta(doc("timeout of every provider call, the answer's body included")),
    PROVIDER_QUEUE_RPS_LIMIT: z.coerce
      .number()
      .positive()
      .max(10_000)
      .default(100)
      .meta(
        doc(
          "calls a second to one provider across every organisation (a provider queue's whole-queue rate on the Temporal server); each organisation's integration is held to the provider's own published per-account limit besides",
        ),
      ),
    PROVIDER_WORKER_CONCURRENCY: z.coerce
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(20)
      .meta(doc("provider calls one worker process runs at once per provider queue (they wait on the network); the queue's rates, not this, pace them")),
    CONNECTOR_BASE_URLS: baseUrlMap.meta(
      doc(
        "comma-separated `provider=url` pairs: where a provider's calls go instead of the vendor's host, for loopback fakes and sandboxes (e.g. `tave=http://127.0.0.1:4011/api/v2`). Deployment config only, never an API field; its address still has to pass the outbound rules; an id the registry does not know stops the process ([security](security.md#deployment-settings))",
      ),
    ),
    OUTBOUND_ALLOWED_NETWORKS: networkList.meta(
      doc('comma-separated CIDRs or addresses provider calls may reach despite the outbound address rules (`127.0.0.1/32` for loopback fakes); cloud metadata endpoints stay refused'),
    ),
    OUTBOUND_MAX_RESPONSE_BYTES: positiveInt(1024 * 1024).meta(doc("the most bytes of a provider's answer that are read; a longer one is refused (`response_too_large`)")),
    INTEGRATION_TEST_CONCURRENCY: z.coerce
      .number()
      .int()
      .min(1)
      .max(50)
      .default(2)
      .meta(doc('connection tests (`POST /api/integrations/{id}/test`) one organisation may run at once, per API process, 1 to 50; one more is answered 429 `too_many_connection_tests`')),
    GOOGLE_OAUTH_CLIENT_ID: optionalString.meta(doc('Google Calendar consent (with the secret)')),
    GOOGLE_OAUTH_CLIENT_SECRET: optionalString.meta(doc('Google Calendar consent (with the id)')),
    MICROSOFT_OAUTH_CLIENT_ID: optionalString.meta(doc('Outlook consent (with the secret)')),
    MICROSOFT_OAUTH_CLIENT_SECRET: optionalString.meta(doc('Outlook consent (with the id)')),
    MICROSOFT_OAUTH_TENANT: z.string().min(1).default('common').meta(doc('Microsoft identity platform tenant of the Outlook consent')),

    RATE_LIMIT_PROGRESS_PER_MINUTE: z.coerce
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .default(10)
      .meta(
        doc(
          "progress updates (`PUT /api/tours/progress/{id}`) one user may make a minute, across every API process (seed 000's figure); one more is answered 429 `rate_limited`. `0` turns the limit off (a gateway in front limits instead)",
        ),
      ),
    RATE_LIMIT_STARTS_PER_MINUTE: z.coerce
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .default(5)
      .meta(
        doc(
          'tour starts (`POST /api/tours/{id}/start`) one user may make a minute, across every API process; a person starts a tour when a screen opens it, so reloads and a few tours on one screen stay well under five, while each restart re-runs the tour and its planning, so a loop is held to five rounds a minute. `0` turns the limit off',
        ),
      ),
    TOUR_UPDATE_TIMEOUT_MS: positiveInt(10_000).meta(doc("how long the API waits for the workflow's answer to a move (then 503 `tour_timeout`)")),
    DB_OUTAGE_MAX_WAIT: duration('6h').meta(
      doc(
        "how long a tour's or a replay's workflow waits out a Postgres outage (retrying, with the reason in its current details) before its run gives up; set where runs are started (the API, `tourhub replay`)",
      ),
    ),
    TOUR_CONTINUE_AS_NEW_AFTER_UPDATES: z.coerce
      .number()
      .int()
      .min(10)
      .max(1500)
      .default(500)
      .meta(doc("accepted moves per workflow run, 10 to 1500 (the server's limit is 2000 updates)")),

    // The hub: how deliveries retry, when timers fire, and when an integration counts as degraded.
    HUB_RETRY_INITIAL_INTERVAL: duration('1s').meta(doc("a delivery's first retry interval")),
    HUB_RETRY_BACKOFF: z.coerce.number().min(1).max(10).default(2).meta(doc('retry backoff coefficient, 1 to 10')),
    HUB_RETRY_MAX_INTERVAL: duration('10m').meta(doc('the longest interval between retries')),
    HUB_RETRY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(25).meta(doc('attempts before a delivery is dead, 1 to 1000')),
    HUB_RETRY_MAX_TIME: duration('24h').meta(doc("a delivery's whole time, retries included, after which it is dead")),
    /** One attempt's limit; unset: three connector timeouts (Stripe makes up to three calls) plus 5 s. */
    HUB_ATTEMPT_TIMEOUT: duration('0').meta(
      doc("one attempt's limit (start to close); an attempt lost with its worker is retried sooner, after the 10 s heartbeat timeout", '3 × `CONNECTOR_TIMEOUT_MS` + 5 s'),
    ),
    HUB_ABANDON_AFTER: duration('7d').meta(doc("inactivity after which the workflow abandons a tour (a tour's `inactivity_timeout_minutes` wins)")),
    HUB_REENGAGE_AFTER: duration('24h').meta(doc('from abandonment to the re-engagement email, unless the couple resumed')),
    HUB_CHECK_IN_AFTER: durationList('1d,7d,14d,30d').meta(doc('check-in slots after completion')),
    HUB_CHECK_IN_LEAD: duration('1d').meta(doc('how long before its slot each check-in is sent, so the invitation arrives in time')),
    HUB_SUPPRESS_REPEATS_WITHIN: duration('24h').meta(
      doc(
        "window in which a couple's `tour_started` and `tour_completed` effects, and each numbered check-in, go to an integration at most once per tour; repeats (a restart loop) are recorded as `suppressed` with the reason instead of sent; `0` sends every time",
      ),
    ),
    HUB_DEGRADED_BELOW: z.coerce.number().min(0).max(1).default(0.95).meta(doc('last-hour success rate (0 to 1) below which an integration is degraded')),
    HUB_DEGRADED_MIN_ATTEMPTS: positiveInt(10).meta(doc('last-hour attempts needed before an integration can be judged degraded')),
    HUB_HEALTH_WINDOW: duration('1h').meta(doc('how far back degradation is judged (never before the last change of health, so an outage already recovered from does not count twice)')),
    HUB_RECOVERY_SUCCESSES: z.coerce
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .meta(doc('consecutive successful attempts after which a degraded integration is healthy again (a successful probe closes its breaker at once)')),
    HUB_BREAKER_PROBE_INTERVAL: duration('1m').meta(doc("while a degraded integration's breaker is open, how often one call is let through as a probe; the others wait")),

    // Two-way sync: how often each readable integration is reconciled, and in what sizes.
    SYNC_INTERVAL: duration('15m').meta(doc("the Temporal Schedule of each readable integration's reconciliation (`sync-schedule:{integrationId}`)")),
    SYNC_FULL_EVERY: duration('24h').meta(doc('a pass compares every record (not only changes) when the last full one is older than this, so changes a provider never reported are caught')),
    SYNC_PAGE_SIZE: z.coerce.number().int().min(10).max(1000).default(100).meta(doc("records per page asked of a provider (each provider's own maximum applies)")),
    SYNC_COMPARE_BATCH: z.coerce.number().int().min(10).max(5000).default(500).meta(doc('records compared per step of a pass; the memory a pass holds is one batch and one page')),
    /** Where a couple resumes a tour: `{tourId}` is replaced. Default: PUBLIC_URL/tours/{tourId}. */
    HUB_RESUME_URL: optionalString.meta(doc("the resume link of abandonment and re-engagement emails; `{tourId}` is replaced", '`$PUBLIC_URL/tours/{tourId}`')),

    // Analytics, realtime and the data lifecycle
    ANALYTICS_RETENTION: duration('90d').meta(
      doc('how long raw analytics events are kept; the retention job rolls older ones into pseudonymous daily aggregates and deletes them (whole UTC days, at least 1d)'),
    ),
    ANALYTICS_AGGREGATE_RETENTION: duration('730d').meta(doc('how long the daily aggregates (anonymous and pseudonymous) are kept')),
    ANALYTICS_RETENTION_CRON: z
      .string()
      .regex(/^\S+( \S+){4}$/, 'a five-field cron expression such as 15 3 * * *')
      .default('15 3 * * *')
      .meta(doc('when the retention schedule runs (UTC); the worker creates or updates the Temporal Schedule `analytics-retention` at start')),
    ANALYTICS_PSEUDONYM_KEY: optionalString.meta(
      doc(
        'base64 of at least 32 bytes: the HMAC key that turns user ids into the pseudonyms kept after the retention period. Keep it stable (a new key makes new pseudonyms for the same people) and secret',
        'derived from the active `TOURHUB_SECRET_KEYS` key',
      ),
    ),
    ANALYTICS_BEACON_TOKEN_TTL: duration('1h').meta(doc('lifetime of the beacon tokens `POST /api/tours/analytics/beacon-token` mints for `navigator.sendBeacon` batches')),
    REALTIME_HEARTBEAT_INTERVAL: duration('15s').meta(doc('how often an open progress stream (Server-Sent Events) gets a comment line, so proxies keep it open and clients notice a dead one')),
    // Webhooks in and out (docs/security.md#webhooks).
    WEBHOOK_TIMEOUT: duration('10s').meta(doc('one outbound webhook attempt, the answer included')),
    WEBHOOK_RETRY_INITIAL_INTERVAL: duration('5s').meta(doc("an outbound webhook's first retry interval")),
    WEBHOOK_RETRY_BACKOFF: z.coerce.number().min(1).max(10).default(2).meta(doc('outbound webhook retry backoff coefficient, 1 to 10')),
    WEBHOOK_RETRY_MAX_INTERVAL: duration('1h').meta(doc('the longest interval between outbound webhook retries')),
    WEBHOOK_RETRY_MAX_TIME: duration('3d').meta(doc("an outbound webhook delivery's whole time, retries included (keep it at 24h or more outside tests); then it is failed, resendable, and its lane moves on")),
    WEBHOOK_PAUSE_AFTER: duration('2d').meta(doc('a subscription whose every attempt has failed for this long (and `WEBHOOK_PAUSE_MIN_FAILURES` times in a row) is paused and reported')),
    WEBHOOK_PAUSE_MIN_FAILURES: positiveInt(10).meta(doc('failed attempts in a row, at least, before a subscription is paused')),
    WEBHOOK_SECRET_GRACE: duration('24h').meta(doc('how long a rotated secret (a tour-event signing secret, a subscription secret) keeps working, unless the rotation says otherwise')),
    WEBHOOK_RELAY_INTERVAL: duration('1s').meta(doc('how often the worker fans new outbox events out to subscriptions and wakes their lanes')),
    WEBHOOK_LANE_LINGER: duration('1m').meta(doc('how long an idle delivery lane waits for more before its workflow closes')),
    WEBHOOK_RESIGNAL_AFTER: duration('15m').meta(doc('a lane with pending deliveries is woken again after this, in case its wake-up was lost')),
    WEBHOOK_CHANNEL_TTL: duration('7d').meta(doc('how long a calendar change-notification channel is asked for (providers may grant less)')),
    WEBHOOK_CHANNEL_RENEW_BEFORE: duration('1d').meta(doc('renew a calendar channel this long before it expires')),
    WEBHOOK_CHANNEL_SWEEP: duration('1m').meta(doc('how often the worker looks for calendar integrations without a live channel and starts their `pushChannel` workflow')),
  })
  .superRefine((env, ctx) => {
    if (env.TOURHUB_ENV === 'production') {
      if (!env.JWT_SECRET && !env.JWT_JWKS_URL) {
        ctx.addIssue({
          code: 'custom',
          path: ['JWT_SECRET'],
          message: 'JWT_SECRET or JWT_JWKS_URL is required when TOURHUB_ENV=production',
        });
      }
      if (env.JWT_JWKS_URL && new URL(env.JWT_JWKS_URL).protocol !== 'https:') {
        ctx.addIssue({
          code: 'custom',
          path: ['JWT_JWKS_URL'],
          message: 'must be https when TOURHUB_ENV=production: the keys that authenticate every caller cannot travel in the clear',
        });
      }
      if (!env.TOURHUB_SECRET_KEYS) {
        ctx.addIssue({
          code: 'custom',
          path: ['TOURHUB_SECRET_KEYS'],
          message: 'required when TOURHUB_ENV=production: kid:base64key pairs (32-byte keys) that encrypt provider credentials',
        });
      }
      if (!env.DATABASE_URL) {
        ctx.addIssue({
          code: 'custom',
          path: ['DATABASE_URL'],
          message: 'required when TOURHUB_ENV=production (the embedded Postgres is for development)',
        });
      }
      for (const issue of productionDefaults(env)) ctx.addIssue({ code: 'custom', path: [issue.variable], message: issue.message });
      if (env.TEMPORAL_PAYLOAD_CODEC === 'off') {
        ctx.addIssue({ code: 'custom', path: ['TEMPORAL_PAYLOAD_CODEC'], message: 'personal data must not reach Temporal unencrypted: off is refused when TOURHUB_ENV=production' });
      }
    }
    if (!env.TEMPORAL_TLS_CERT_PATH !== !env.TEMPORAL_TLS_KEY_PATH) {
      ctx.addIssue({
        code: 'custom',
        path: [env.TEMPORAL_TLS_CERT_PATH ? 'TEMPORAL_TLS_KEY_PATH' : 'TEMPORAL_TLS_CERT_PATH'],
        message: 'TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH go together (a client certificate and its key)',
      });
    }
  });

/**
 * Every password, secret and key this repository ships as a default for a development, test or compose
 * stack. A production process refuses them (and anything marked dev-only, or a secret of one repeated
 * character): a deployment that forgot to set one must not start on a value anyone can read on GitHub.
 */
export const DEVELOPMENT_SECRETS: readonly string[] = [
  'tourhub', // the embedded Postgres's owner (EMBEDDED_PG)
  'tourhub_app', // DATABASE_APP_PASSWORD outside production
  'tourhub_worker', // DATABASE_WORKER_PASSWORD outside production
  'tourhub_app_test',
  'tourhub_worker_test',
  'tourhub-dev-only-password', // the compose file's old Postgres default
  'tourhub-app-dev-only-password', // ...and its old tourhub_app default
  'test-secret-that-is-long-enough-for-hs256-signing', // the test suites' JWT secret
];

function isDevelopmentSecret(value: string): boolean {
  return DEVELOPMENT_SECRETS.includes(value) || /dev[-_]?only|change[-_]?me/i.test(value) || new Set(value).size <= 1;
}

/** The password in a connection URL, decoded; undefined when there is none. */
function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Keys of the keyring whose 32 bytes are all one value: the all-zero key and the test suites' keys (every
 * byte 7, every byte 9). A real key comes from `openssl rand -base64 32`.
 */
function weakKeyIds(spec: string): string[] {
  const weak: string[] = [];
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const i = part.indexOf(':');
    if (i <= 0) continue; // the keyring's own parser names a malformed entry
    const key = Buffer.from(part.slice(i + 1), 'base64');
    if (key.length > 0 && new Set(key).size <= 1) weak.push(part.slice(0, i));
  }
  return weak;
}

function productionDefaults(env: {
  DATABASE_URL?: string | undefined;
  DATABASE_APP_URL?: string | undefined;
  DATABASE_APP_PASSWORD?: string | undefined;
  DATABASE_WORKER_URL?: string | undefined;
  DATABASE_WORKER_PASSWORD?: string | undefined;
  JWT_SECRET?: string | undefined;
  TOURHUB_SECRET_KEYS?: string | undefined;
}): { variable: string; message: string }[] {
  const issues: { variable: string; message: string }[] = [];
  const secrets: [string, string | undefined][] = [
    ['DATABASE_URL', urlPassword(env.DATABASE_URL)],
    ['DATABASE_APP_URL', urlPassword(env.DATABASE_APP_URL)],
    ['DATABASE_APP_PASSWORD', env.DATABASE_APP_PASSWORD],
    ['DATABASE_WORKER_URL', urlPassword(env.DATABASE_WORKER_URL)],
    ['DATABASE_WORKER_PASSWORD', env.DATABASE_WORKER_PASSWORD],
    ['JWT_SECRET', env.JWT_SECRET],
  ];
  for (const [variable, value] of secrets) {
    if (value !== undefined && isDevelopmentSecret(value)) {
      issues.push({ variable, message: 'a development default is refused when TOURHUB_ENV=production: set a password or secret of your own' });
    }
  }
  const weak = env.TOURHUB_SECRET_KEYS ? weakKeyIds(env.TOURHUB_SECRET_KEYS) : [];
  if (weak.length > 0) {
    issues.push({
      variable: 'TOURHUB_SECRET_KEYS',
      message: `key ${weak.join(', ')} is a development key (every byte the same) and is refused when TOURHUB_ENV=production: use openssl rand -base64 32`,
    });
  }
  return issues;
}

export type Env = z.infer<typeof envSchema>;

const DAY_MS = 86_400_000;

export interface Config {
  env: Env['TOURHUB_ENV'];
  logLevel: Env['LOG_LEVEL'];
  /** `auto`: readable lines when stdout is a terminal, JSON otherwise. */
  logFormat: Env['LOG_FORMAT'];
  http: { host: string; port: number };
  dataDir: string;
  database: {
    /** Owner connection: migrations and the worker. Undefined means "start the embedded Postgres". */
    url: string | undefined;
    /** Non-owner connection the API uses, so row-level security applies to every request. */
    appUrl: string | undefined;
    appPassword: string;
    /** The worker's connection as the least-privileged tourhub_worker role. */
    workerUrl: string | undefined;
    workerPassword: string;
    poolMax: number;
    embeddedPort: number;
  };
  temporal: {
    address: string;
    /**
     * True when TEMPORAL_ADDRESS was given: `tourhub dev` then uses that server instead of starting one
     * (on TEMPORAL_DEV_PORT).
     */
    external: boolean;
    namespace: string;
    taskQueue: string;
    uiPort: number;
    cliPath: string | undefined;
    /** The time-skipping test server binary, when not found on PATH or installed into .tools. */
    testServerPath: string | undefined;
    /** A prebuilt workflow bundle (images, tests); unset means bundle workflows/ when the worker starts. */
    workflowBundle: string | undefined;
    /** How every client and worker connects (services/temporal-connection.ts builds the options). */
    tls: { enabled: boolean; certPath: string | undefined; keyPath: string | undefined; caPath: string | undefined; serverName: string | undefined };
    apiKey: string | undefined;
    /** False only for benchmarks (TEMPORAL_PAYLOAD_CODEC=off, refused in production). */
    encryptPayloads: boolean;
  };
  /** The codec endpoint the Temporal Web UI decodes payloads through. */
  codec: {
    /** Browser origins of the Web UI allowed to call it (CORS). */
    uiOrigins: string[];
    /** When set, only this organisation's admins may use it. */
    adminOrgId: string | undefined;
  };
  jwt: {
    secret: string | undefined;
    jwksUrl: string | undefined;
    issuer: string;
    audience: string;
    secretFile: string;
    /** How long an API process trusts a member's role before asking Postgres again: the staleness bound. */
    membershipCacheTtlMs: number;
  };
  tours: { updateTimeoutMs: number; continueAsNewAfterUpdates: number; dbOutageMaxWaitMs: number };
  /** Per-user request limits of the API, shared by its processes through Postgres. */
  rateLimits: { perMinute: { progress: number; start: number } };
  hub: HubConfig;
  sync: SyncConfig;
  secrets: {
    /** `kid:base64key,...`; unset in development means a keyring generated into the data folder. */
    keyring: string | undefined;
    activeKeyId: string | undefined;
    keyringFile: string;
  };
  /** Where browsers reach the API (OAuth redirect URIs are built from it). */
  publicUrl: string;
  connectors: {
    timeoutMs: number;
    google: { clientId: string | undefined; clientSecret: string | undefined };
    microsoft: { clientId: string | undefined; clientSecret: string | undefined; tenant: string };
    /** Connection tests (`POST /api/integrations/:id/test`) one organisation may run at once, per API process. */
    testConcurrencyPerOrg: number;
  };
  /** The provider queues' whole-queue rate and each worker's concurrency per queue. */
  providers: { queueRpsLimit: number; workerConcurrency: number };
  analytics: AnalyticsConfig;
  webhooks: WebhookConfig;
  /** What outbound calls may reach (connectors/outbound.ts). */
  outbound: {
    /** Provider id -> base URL instead of the vendor's host (CONNECTOR_BASE_URLS): tests and sandboxes. */
    baseUrls: Record<string, string>;
    /** Networks reachable despite the address rules (OUTBOUND_ALLOWED_NETWORKS); metadata endpoints never are. */
    allowedNetworks: string[];
    maxResponseBytes: number;
    /** Hosts of our own services (public URL, API listener, Temporal, Postgres): never reachable. */
    ownHosts: string[];
  };
}

export interface AnalyticsConfig {
  /** Raw events older than this many whole days are rolled up and deleted. */
  retentionDays: number;
  /** Daily aggregates older than this many whole days are deleted. */
  aggregateRetentionDays: number;
  retentionCron: string;
  /** The pseudonym HMAC key (ANALYTICS_PSEUDONYM_KEY); undefined: derived from the keyring. */
  pseudonymKey: Buffer | undefined;
  beaconTokenTtlSeconds: number;
  heartbeatMs: number;
}

/** Webhooks in and out: outbound retries and pausing, the relay, rotations, calendar channels. */
export interface WebhookConfig {
  timeoutMs: number;
  retry: { initialIntervalMs: number; backoffCoefficient: number; maximumIntervalMs: number; maximumTimeMs: number };
  pause: { afterMs: number; minFailures: number };
  secretGraceMs: number;
  relayIntervalMs: number;
  laneLingerMs: number;
  resignalAfterMs: number;
  channelTtlMs: number;
  channelRenewBeforeMs: number;
  channelSweepMs: number;
}

/** The hub's settings as the worker's config gives them (a tour's loaded HubSettings), plus health and links. */
export interface HubConfig extends HubSettings {
  /** Success rate over the last hour below which an integration is degraded (with enough attempts). */
  degradedBelow: number;
  degradedMinAttempts: number;
  /** How far back degradation is judged. */
  healthWindowMs: number;
  /** Consecutive successes that make a degraded integration healthy again. */
  recoverAfterSuccesses: number;
  /** While a breaker is open, how often a probe is let through. */
  breakerProbeIntervalMs: number;
  resumeUrl: string;
  /** A couple's tour_started/tour_completed effects go to an integration at most once per tour in this window (0: always). */
  suppressRepeatsWithinMs: number;
}

/** Two-way sync (workflows/integration-sync). */
export interface SyncConfig {
  intervalMs: number;
  fullEveryMs: number;
  pageSize: number;
  compareBatch: number;
}

export class ConfigError extends Error {
  constructor(public readonly problems: { variable: string; expected: string }[]) {
    super(
      'Invalid configuration:\n' +
        problems.map((p) => `  ${p.variable}: ${p.expected}`).join('\n') +
        '\nSet these variables (see docs/configuration.md) and start again.',
    );
    this.name = 'ConfigError';
  }
}

/** Embedded Postgres credentials: local-only, on loopback, inside the git-ignored data folder. */
export const EMBEDDED_PG = { user: 'tourhub', password: 'tourhub', database: 'tourhub' } as const;

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const known = Object.keys(envSchema.shape);
  const picked: Record<string, string> = {};
  for (const key of known) {
    const value = source[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? 'environment'),
        expected: issue.message,
      })),
    );
  }
  const env = parsed.data;
  const problems: { variable: string; expected: string }[] = [];
  if (env.ANALYTICS_RETENTION < DAY_MS) problems.push({ variable: 'ANALYTICS_RETENTION', expected: 'at least 1d' });
  if (env.ANALYTICS_AGGREGATE_RETENTION < env.ANALYTICS_RETENTION) {
    problems.push({ variable: 'ANALYTICS_AGGREGATE_RETENTION', expected: 'at least ANALYTICS_RETENTION' });
  }
  const pseudonymKey = env.ANALYTICS_PSEUDONYM_KEY === undefined ? undefined : Buffer.from(env.ANALYTICS_PSEUDONYM_KEY, 'base64');
  if (pseudonymKey && pseudonymKey.length < 32) problems.push({ variable: 'ANALYTICS_PSEUDONYM_KEY', expected: 'base64 of at least 32 bytes' });
  if (env.ANALYTICS_BEACON_TOKEN_TTL < 60_000) problems.push({ variable: 'ANALYTICS_BEACON_TOKEN_TTL', expected: 'at least 1m' });
  if (env.REALTIME_HEARTBEAT_INTERVAL < 100) problems.push({ variable: 'REALTIME_HEARTBEAT_INTERVAL', expected: 'at least 100ms' });
  if (problems.length > 0) throw new ConfigError(problems);
  const dataDir = path.resolve(env.TOURHUB_DATA_DIR);
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, '');
  const appPassword = env.DATABASE_APP_PASSWORD ?? (env.TOURHUB_ENV === 'production' ? '' : 'tourhub_app');
  const workerPassword = env.DATABASE_WORKER_PASSWORD ?? (env.TOURHUB_ENV === 'production' ? '' : 'tourhub_worker');
  const missing: { variable: string; expected: string }[] = [];
  if (env.TOURHUB_ENV === 'production' && !env.DATABASE_APP_URL && !env.DATABASE_APP_PASSWORD) {
    missing.push({ variable: 'DATABASE_APP_URL', expected: 'required when TOURHUB_ENV=production (or set DATABASE_APP_PASSWORD)' });
  }
  if (env.TOURHUB_ENV === 'production' && !env.DATABASE_WORKER_URL && !env.DATABASE_WORKER_PASSWORD) {
    missing.push({ variable: 'DATABASE_WORKER_URL', expected: 'required when TOURHUB_ENV=production (or set DATABASE_WORKER_PASSWORD)' });
  }
  if (missing.length > 0) throw new ConfigError(missing);
  return {
    env: env.TOURHUB_ENV,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    http: { host: env.HOST, port: env.PORT },
    dataDir,
    database: {
      url: env.DATABASE_URL,
      appUrl: env.DATABASE_APP_URL,
      appPassword,
      workerUrl: env.DATABASE_WORKER_URL,
      workerPassword,
      poolMax: env.DATABASE_POOL_MAX,
      embeddedPort: env.EMBEDDED_PG_PORT,
    },
    temporal: {
      address: env.TEMPORAL_ADDRESS ?? `127.0.0.1:${env.TEMPORAL_DEV_PORT}`,
      external: env.TEMPORAL_ADDRESS !== undefined,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      uiPort: env.TEMPORAL_UI_PORT,
      cliPath: env.TEMPORAL_CLI_PATH,
      testServerPath: env.TEMPORAL_TEST_SERVER_PATH,
      workflowBundle: env.TOURHUB_WORKFLOW_BUNDLE ? path.resolve(env.TOURHUB_WORKFLOW_BUNDLE) : undefined,
      tls: {
        enabled: env.TEMPORAL_TLS === 'true' || !!(env.TEMPORAL_TLS_CERT_PATH || env.TEMPORAL_TLS_CA_PATH || env.TEMPORAL_TLS_SERVER_NAME || env.TEMPORAL_API_KEY),
        certPath: env.TEMPORAL_TLS_CERT_PATH,
        keyPath: env.TEMPORAL_TLS_KEY_PATH,
        caPath: env.TEMPORAL_TLS_CA_PATH,
        serverName: env.TEMPORAL_TLS_SERVER_NAME,
      },
      apiKey: env.TEMPORAL_API_KEY,
      encryptPayloads: env.TEMPORAL_PAYLOAD_CODEC === 'on',
    },
    codec: {
      uiOrigins: env.TEMPORAL_UI_ORIGIN.length > 0 ? env.TEMPORAL_UI_ORIGIN : [`http://localhost:${env.TEMPORAL_UI_PORT}`],
      adminOrgId: env.CODEC_ADMIN_ORG_ID?.toLowerCase(),
    },
    jwt: {
      secret: env.JWT_SECRET,
      jwksUrl: env.JWT_JWKS_URL,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      secretFile: path.join(dataDir, 'jwt-secret'),
      membershipCacheTtlMs: env.MEMBERSHIP_CACHE_TTL,
    },
    tours: {
      updateTimeoutMs: env.TOUR_UPDATE_TIMEOUT_MS,
      continueAsNewAfterUpdates: env.TOUR_CONTINUE_AS_NEW_AFTER_UPDATES,
      dbOutageMaxWaitMs: env.DB_OUTAGE_MAX_WAIT,
    },
    rateLimits: { perMinute: { progress: env.RATE_LIMIT_PROGRESS_PER_MINUTE, start: env.RATE_LIMIT_STARTS_PER_MINUTE } },
    secrets: {
      keyring: env.TOURHUB_SECRET_KEYS,
      activeKeyId: env.TOURHUB_ACTIVE_SECRET_KEY,
      keyringFile: path.join(dataDir, 'secret-keys'),
    },
    hub: {
      retry: {
        initialIntervalMs: env.HUB_RETRY_INITIAL_INTERVAL,
        backoffCoefficient: env.HUB_RETRY_BACKOFF,
        maximumIntervalMs: env.HUB_RETRY_MAX_INTERVAL,
        maximumAttempts: env.HUB_RETRY_MAX_ATTEMPTS,
        maximumTimeMs: env.HUB_RETRY_MAX_TIME,
        attemptTimeoutMs: env.HUB_ATTEMPT_TIMEOUT || 3 * env.CONNECTOR_TIMEOUT_MS + 5_000,
      },
      abandonAfterMs: env.HUB_ABANDON_AFTER,
      reengageAfterMs: env.HUB_REENGAGE_AFTER,
      checkInAfterMs: env.HUB_CHECK_IN_AFTER,
      checkInLeadMs: env.HUB_CHECK_IN_LEAD,
      degradedBelow: env.HUB_DEGRADED_BELOW,
      degradedMinAttempts: env.HUB_DEGRADED_MIN_ATTEMPTS,
      healthWindowMs: env.HUB_HEALTH_WINDOW,
      recoverAfterSuccesses: env.HUB_RECOVERY_SUCCESSES,
      breakerProbeIntervalMs: env.HUB_BREAKER_PROBE_INTERVAL,
      resumeUrl: env.HUB_RESUME_URL ?? `${publicUrl}/tours/{tourId}`,
      suppressRepeatsWithinMs: env.HUB_SUPPRESS_REPEATS_WITHIN,
    },
    sync: {
      intervalMs: env.SYNC_INTERVAL,
      fullEveryMs: env.SYNC_FULL_EVERY,
      pageSize: env.SYNC_PAGE_SIZE,
      compareBatch: env.SYNC_COMPARE_BATCH,
    },
    publicUrl,
    analytics: {
      retentionDays: Math.floor(env.ANALYTICS_RETENTION / DAY_MS),
      aggregateRetentionDays: Math.floor(env.ANALYTICS_AGGREGATE_RETENTION / DAY_MS),
      retentionCron: env.ANALYTICS_RETENTION_CRON,
      pseudonymKey,
      beaconTokenTtlSeconds: Math.floor(env.ANALYTICS_BEACON_TOKEN_TTL / 1000),
      heartbeatMs: env.REALTIME_HEARTBEAT_INTERVAL,
    },
    webhooks: {
      timeoutMs: env.WEBHOOK_TIMEOUT,
      retry: {
        initialIntervalMs: env.WEBHOOK_RETRY_INITIAL_INTERVAL,
        backoffCoefficient: env.WEBHOOK_RETRY_BACKOFF,
        maximumIntervalMs: env.WEBHOOK_RETRY_MAX_INTERVAL,
        maximumTimeMs: env.WEBHOOK_RETRY_MAX_TIME,
      },
      pause: { afterMs: env.WEBHOOK_PAUSE_AFTER, minFailures: env.WEBHOOK_PAUSE_MIN_FAILURES },
      secretGraceMs: env.WEBHOOK_SECRET_GRACE,
      relayIntervalMs: env.WEBHOOK_RELAY_INTERVAL,
      laneLingerMs: env.WEBHOOK_LANE_LINGER,
      resignalAfterMs: env.WEBHOOK_RESIGNAL_AFTER,
      channelTtlMs: env.WEBHOOK_CHANNEL_TTL,
      channelRenewBeforeMs: env.WEBHOOK_CHANNEL_RENEW_BEFORE,
      channelSweepMs: env.WEBHOOK_CHANNEL_SWEEP,
    },
    connectors: {
      timeoutMs: env.CONNECTOR_TIMEOUT_MS,
      google: { clientId: env.GOOGLE_OAUTH_CLIENT_ID, clientSecret: env.GOOGLE_OAUTH_CLIENT_SECRET },
      microsoft: {
        clientId: env.MICROSOFT_OAUTH_CLIENT_ID,
        clientSecret: env.MICROSOFT_OAUTH_CLIENT_SECRET,
        tenant: env.MICROSOFT_OAUTH_TENANT,
      },
      testConcurrencyPerOrg: env.INTEGRATION_TEST_CONCURRENCY,
    },
    providers: { queueRpsLimit: env.PROVIDER_QUEUE_RPS_LIMIT, workerConcurrency: env.PROVIDER_WORKER_CONCURRENCY },
    outbound: {
      baseUrls: env.CONNECTOR_BASE_URLS,
      allowedNetworks: env.OUTBOUND_ALLOWED_NETWORKS,
      maxResponseBytes: env.OUTBOUND_MAX_RESPONSE_BYTES,
      ownHosts: ownHosts(env, publicUrl),
    },
  };
}

/** Where our own services listen, by host name or address: an outbound call must reach none of them. */
function ownHosts(env: Env, publicUrl: string): string[] {
  const hosts = new Set<string>();
  const add = (url: string | undefined) => {
    if (!url) return;
    try {
      hosts.add(new URL(url).hostname);
    } catch {
      // validated above; a URL that does not parse names no host
    }
  };
  add(publicUrl);
  add(env.DATABASE_URL);
  add(env.DATABASE_APP_URL);
  add(env.DATABASE_WORKER_URL);
  if (env.TEMPORAL_ADDRESS) add(`tcp://${env.TEMPORAL_ADDRESS}`);
  // A wildcard listener is every local address: the loopback and private rules cover those.
  if (env.HOST !== '0.0.0.0' && env.HOST !== '::') hosts.add(env.HOST);
  return [...hosts].filter(Boolean);
}

/** Owner URL for the embedded Postgres, used when DATABASE_URL is unset. */
export function embeddedDatabaseUrl(config: Config): string {
  return `postgres://${EMBEDDED_PG.user}:${EMBEDDED_PG.password}@127.0.0.1:${config.database.embeddedPort}/${EMBEDDED_PG.database}`;
}

export function ownerDatabaseUrl(config: Config): string {
  return config.database.url ?? embeddedDatabaseUrl(config);
}

/** The API's URL: explicit, or the owner URL with the app role's credentials swapped in. */
export function appDatabaseUrl(config: Config): string {
  if (config.database.appUrl) return config.database.appUrl;
  const url = new URL(ownerDatabaseUrl(config));
  url.username = APP_ROLE;
  url.password = config.database.appPassword;
  return url.toString();
}

/** The non-owner role every API request runs as; created by the first migration. */
export const APP_ROLE = 'tourhub_app';

/** The worker's URL: explicit, or the owner URL with the worker role's credentials swapped in. */
export function workerDatabaseUrl(config: Config): string {
  if (config.database.workerUrl) return config.database.workerUrl;
  const url = new URL(ownerDatabaseUrl(config));
  url.username = WORKER_ROLE;
  url.password = config.database.workerPassword;
  return url.toString();
}

/** The least-privileged role the worker runs as (migrations/20261202090000_create_worker_role.ts). */
export const WORKER_ROLE = 'tourhub_worker';
