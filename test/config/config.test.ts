import crypto from 'node:crypto';
import { appDatabaseUrl, ConfigError, loadConfig, workerDatabaseUrl } from '../../config';

const REAL_KEY = crypto.randomBytes(32).toString('base64');

/** A production environment with nothing of the repository's defaults in it. */
const PRODUCTION: Record<string, string> = {
  TOURHUB_ENV: 'production',
  JWT_SECRET: crypto.randomBytes(48).toString('base64url'),
  DATABASE_URL: `postgres://tourhub:${crypto.randomBytes(12).toString('hex')}@db.internal:5432/tourhub`,
  DATABASE_APP_PASSWORD: crypto.randomBytes(12).toString('hex'),
  DATABASE_WORKER_PASSWORD: crypto.randomBytes(12).toString('hex'),
  TOURHUB_SECRET_KEYS: `k1:${REAL_KEY}`,
};

function problems(env: Record<string, string>): { variable: string; expected: string }[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('starts with no variables at all, on the embedded defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      http: { port: 3000 },
      database: { url: undefined, embeddedPort: 54329 },
      temporal: { address: '127.0.0.1:7233', external: false, taskQueue: 'tours', uiPort: 8233 },
    });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ TEMPORAL_ADDRESS: 'localhost' }, 'TEMPORAL_ADDRESS'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ JWT_JWKS_URL: 'not a url' }, 'JWT_JWKS_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ TOURHUB_ENV: 'staging' }, 'TOURHUB_ENV'],
    [{ TOUR_CONTINUE_AS_NEW_AFTER_UPDATES: '5000' }, 'TOUR_CONTINUE_AS_NEW_AFTER_UPDATES'],
    [{ HUB_RETRY_MAX_TIME: 'a while' }, 'HUB_RETRY_MAX_TIME'],
    [{ HUB_ABANDON_AFTER: '7 weeks' }, 'HUB_ABANDON_AFTER'],
    [{ HUB_CHECK_IN_AFTER: '1d,soon' }, 'HUB_CHECK_IN_AFTER'],
    [{ HUB_DEGRADED_BELOW: '1.5' }, 'HUB_DEGRADED_BELOW'],
    [{ CONNECTOR_BASE_URLS: 'tave' }, 'CONNECTOR_BASE_URLS'],
    [{ CONNECTOR_BASE_URLS: 'tave=ftp://127.0.0.1/' }, 'CONNECTOR_BASE_URLS'],
    [{ CONNECTOR_BASE_URLS: 'tave=http://user:pw@127.0.0.1/' }, 'CONNECTOR_BASE_URLS'],
    [{ OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/33' }, 'OUTBOUND_ALLOWED_NETWORKS'],
    [{ OUTBOUND_ALLOWED_NETWORKS: 'localhost' }, 'OUTBOUND_ALLOWED_NETWORKS'],
    [{ INTEGRATION_TEST_CONCURRENCY: '0' }, 'INTEGRATION_TEST_CONCURRENCY'],
  ])('names the variable and what it expects: %j', (env, variable) => {
    const found = problems(env as Record<string, string>);
    expect(found.map((p) => p.variable)).toContain(variable);
    expect(found.find((p) => p.variable === variable)!.expected.length).toBeGreaterThan(3);
  });

  it('lists every problem at once, not only the first', () => {
    expect(problems({ PORT: 'x', LOG_LEVEL: 'y' }).map((p) => p.variable).sort()).toEqual(['LOG_LEVEL', 'PORT']);
  });

  it('refuses production without a token key, a database, a credentials keyring or the API and worker database roles', () => {
    const vars = problems({ TOURHUB_ENV: 'production' }).map((p) => p.variable);
    expect(vars).toEqual(expect.arrayContaining(['JWT_SECRET', 'DATABASE_URL', 'TOURHUB_SECRET_KEYS']));
    const { DATABASE_APP_PASSWORD: _app, DATABASE_WORKER_PASSWORD: _worker, ...withoutRoles } = PRODUCTION;
    expect(problems(withoutRoles).map((p) => p.variable)).toEqual(['DATABASE_APP_URL', 'DATABASE_WORKER_URL']);
    expect(loadConfig(PRODUCTION).env).toBe('production');
  });

  it.each([
    ['DATABASE_URL', { DATABASE_URL: 'postgres://tourhub:tourhub@db.internal:5432/tourhub' }], // the embedded Postgres's
    ['DATABASE_URL', { DATABASE_URL: 'postgres://tourhub:tourhub-dev-only-password@postgres:5432/tourhub' }], // compose's
    ['DATABASE_APP_PASSWORD', { DATABASE_APP_PASSWORD: 'tourhub_app' }],
    ['DATABASE_APP_PASSWORD', { DATABASE_APP_PASSWORD: 'tourhub-app-dev-only-password' }],
    ['DATABASE_APP_URL', { DATABASE_APP_URL: 'postgres://tourhub_app:tourhub_app@db.internal/tourhub' }],
    ['DATABASE_WORKER_PASSWORD', { DATABASE_WORKER_PASSWORD: 'tourhub_worker' }],
    ['DATABASE_WORKER_URL', { DATABASE_WORKER_URL: 'postgres://tourhub_worker:tourhub_worker_test@db.internal/tourhub' }],
    ['JWT_SECRET', { JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-signing' }],
    ['JWT_SECRET', { JWT_SECRET: 'x'.repeat(48) }],
    ['JWT_SECRET', { JWT_SECRET: 'please-change-me-before-going-live-0123456789' }],
    ['TOURHUB_SECRET_KEYS', { TOURHUB_SECRET_KEYS: `k1:${Buffer.alloc(32).toString('base64')}` }], // all zero
    ['TOURHUB_SECRET_KEYS', { TOURHUB_SECRET_KEYS: `old:${Buffer.alloc(32, 7).toString('base64')},k1:${REAL_KEY}` }], // the test suites' keys
  ])('refuses the development default of %s in production', (variable, override) => {
    const found = problems({ ...PRODUCTION, ...override });
    expect(found.map((p) => p.variable)).toEqual([variable]);
    expect(found[0]!.expected).toMatch(/development/);
    // ...and takes the same value outside production.
    expect(() => loadConfig({ ...PRODUCTION, ...override, TOURHUB_ENV: 'development' })).not.toThrow();
  });

  it('builds the Temporal connection from the TLS and API key settings, and wants a certificate and its key together', () => {
    expect(loadConfig({}).temporal).toMatchObject({ tls: { enabled: false }, apiKey: undefined });
    expect(loadConfig({ TEMPORAL_API_KEY: 'key' }).temporal).toMatchObject({ tls: { enabled: true }, apiKey: 'key' });
    expect(loadConfig({ TEMPORAL_TLS: 'true' }).temporal.tls.enabled).toBe(true);
    expect(problems({ TEMPORAL_TLS_CERT_PATH: '/certs/client.pem' }).map((p) => p.variable)).toEqual(['TEMPORAL_TLS_KEY_PATH']);
    expect(problems({ TEMPORAL_TLS_KEY_PATH: '/certs/client.key' }).map((p) => p.variable)).toEqual(['TEMPORAL_TLS_CERT_PATH']);
    expect(problems({ TEMPORAL_TLS: 'yes' }).map((p) => p.variable)).toEqual(['TEMPORAL_TLS']);
  });

  it('encrypts payloads unless a benchmark switches the codec off, which production refuses', () => {
    expect(loadConfig({}).temporal.encryptPayloads).toBe(true);
    expect(loadConfig({ TEMPORAL_PAYLOAD_CODEC: 'off' }).temporal.encryptPayloads).toBe(false);
    expect(problems({ ...PRODUCTION, TEMPORAL_PAYLOAD_CODEC: 'off' }).map((p) => p.variable)).toEqual(['TEMPORAL_PAYLOAD_CODEC']);
  });

  it("limits the codec endpoint to the Web UI's origin, by default on its port on localhost", () => {
    expect(loadConfig({}).codec).toEqual({ uiOrigins: ['http://localhost:8233'], adminOrgId: undefined });
    expect(loadConfig({ TEMPORAL_UI_PORT: '18233' }).codec.uiOrigins).toEqual(['http://localhost:18233']);
    expect(loadConfig({ TEMPORAL_UI_ORIGIN: 'https://temporal.example.com/, http://127.0.0.1:8233' }).codec.uiOrigins).toEqual([
      'https://temporal.example.com',
      'http://127.0.0.1:8233',
    ]);
    expect(problems({ TEMPORAL_UI_ORIGIN: 'https://temporal.example.com/ui' }).map((p) => p.variable)).toEqual(['TEMPORAL_UI_ORIGIN']);
    expect(problems({ CODEC_ADMIN_ORG_ID: 'operators' }).map((p) => p.variable)).toEqual(['CODEC_ADMIN_ORG_ID']);
  });

  it("derives the worker's least-privileged connection from the owner URL", () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://owner:secret@db.internal:5432/tourhub', DATABASE_WORKER_PASSWORD: 'w0rk/er' });
    expect(workerDatabaseUrl(config)).toBe('postgres://tourhub_worker:w0rk%2Fer@db.internal:5432/tourhub');
    expect(workerDatabaseUrl(loadConfig({ DATABASE_WORKER_URL: 'postgres://w:p@elsewhere/tourhub' }))).toBe('postgres://w:p@elsewhere/tourhub');
  });

  describe('the JWKS URL', () => {
    const production = { TOURHUB_ENV: 'production', DATABASE_URL: 'postgres://u:p@db/tourhub', DATABASE_APP_URL: 'postgres://a:p@db/tourhub', TOURHUB_SECRET_KEYS: 'k1:x' };
    const jwksProblems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return err.problems.filter((p) => p.variable === 'JWT_JWKS_URL');
      }
    };

    it('must be https in production: the keys that authenticate every caller cannot travel in the clear', () => {
      const [problem] = jwksProblems({ ...production, JWT_JWKS_URL: 'http://idp.example/.well-known/jwks.json' });
      expect(problem?.expected).toMatch(/https when TOURHUB_ENV=production/);
      expect(jwksProblems({ ...production, JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json' })).toEqual([]);
    });

    it('may be http outside production (a local identity provider) but never another scheme', () => {
      expect(jwksProblems({ JWT_JWKS_URL: 'http://127.0.0.1:8080/jwks.json' })).toEqual([]);
      expect(jwksProblems({ JWT_JWKS_URL: 'ftp://idp.example/jwks.json' })).toHaveLength(1);
    });
  });

  it('trusts a member\'s role for 30 s by default, at most 5 minutes', () => {
    expect(loadConfig({}).jwt.membershipCacheTtlMs).toBe(30_000);
    expect(loadConfig({ MEMBERSHIP_CACHE_TTL: '0' }).jwt.membershipCacheTtlMs).toBe(0);
    expect(problems({ MEMBERSHIP_CACHE_TTL: '10m' }).map((p) => p.variable)).toEqual(['MEMBERSHIP_CACHE_TTL']);
  });

  it('derives the API\'s non-owner connection from the owner URL', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://owner:secret@db.internal:5432/tourhub', DATABASE_APP_PASSWORD: 'p@ss' });
    expect(appDatabaseUrl(config)).toBe('postgres://tourhub_app:p%40ss@db.internal:5432/tourhub');
  });

  it('takes the hub\'s durations in readable units, with the seed\'s defaults', () => {
    const { hub } = loadConfig({});
    expect(hub).toMatchObject({
      abandonAfterMs: 7 * 86_400_000,
      reengageAfterMs: 86_400_000,
      checkInAfterMs: [1, 7, 14, 30].map((d) => d * 86_400_000),
      retry: { initialIntervalMs: 1000, maximumTimeMs: 86_400_000, maximumAttempts: 25 },
      degradedBelow: 0.95,
      resumeUrl: 'http://localhost:3000/tours/{tourId}',
    });
    const short = loadConfig({ HUB_ABANDON_AFTER: '1500ms', HUB_CHECK_IN_AFTER: '1s, 2.5s', HUB_RETRY_INITIAL_INTERVAL: '100' }).hub;
    expect([short.abandonAfterMs, short.checkInAfterMs, short.retry.initialIntervalMs]).toEqual([1500, [1000, 2500], 100]);
  });

  it('treats an explicit TEMPORAL_ADDRESS as an external server', () => {
    expect(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233' }).temporal.external).toBe(true);
  });

  it('takes the outbound rules from the deployment: no base URL, no allowed network, 1 MiB, two tests at once', () => {
    const config = loadConfig({ PUBLIC_URL: 'https://hub.example.com', DATABASE_URL: 'postgres://u:p@db.internal:5432/tourhub', TEMPORAL_ADDRESS: 'temporal.internal:7233' });
    expect(config.outbound).toEqual({
      baseUrls: {},
      allowedNetworks: [],
      maxResponseBytes: 1024 * 1024,
      ownHosts: ['hub.example.com', 'db.internal', 'temporal.internal', '127.0.0.1'],
    });
    expect(config.connectors.testConcurrencyPerOrg).toBe(2);
    const sandbox = loadConfig({
      CONNECTOR_BASE_URLS: 'tave=http://127.0.0.1:4011/api/v2/, stripe=https://stripe-mock.internal:12111',
      OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8, ::1',
      OUTBOUND_MAX_RESPONSE_BYTES: '65536',
      INTEGRATION_TEST_CONCURRENCY: '3',
    });
    expect(sandbox.outbound).toMatchObject({
      baseUrls: { tave: 'http://127.0.0.1:4011/api/v2', stripe: 'https://stripe-mock.internal:12111' },
      allowedNetworks: ['127.0.0.0/8', '::1'],
      maxResponseBytes: 65536,
    });
    expect(sandbox.connectors.testConcurrencyPerOrg).toBe(3);
  });

  it('ignores unrelated variables', () => {
    expect(() => loadConfig({ SOMETHING_ELSE: '1', PATH: '/bin' })).not.toThrow();
  });
});
