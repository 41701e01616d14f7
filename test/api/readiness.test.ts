import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { createTokenVerifier } from '../../api/middleware/auth';
import { createOutboundGuard } from '../../connectors/outbound';
import { registry } from '../../connectors/registry';
import knex from 'knex';
import { createProgressFeed } from '../../services/progress-feed';
import { classifyCheckFailure } from '../../services/readiness';
import type { TourWorkflows } from '../../services/temporal';
import { TEST_ENV_KEYS, TEST_JWT_SECRET } from '../support/constants';
import { freePort } from '../support/ports';
import { testSecretBox } from '../support/stack';

/** Words of the drivers' own messages that must stay in the log, never reach a public probe. */
const SECRET_HOST = 'db-primary.internal.example';

function appWith(deps: { pgUrl: string; ping: TourWorkflows['ping'] }) {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => void (lines.push(chunk.toString()), done()) }));
  // knex prints a refused connection to the console itself: keep the test's output to what it checks.
  const quiet = { warn: () => undefined, error: () => undefined, debug: () => undefined, deprecate: () => undefined };
  const db = knex({ client: 'pg', connection: deps.pgUrl, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 10_000, log: quiet });
  const outbound = createOutboundGuard();
  const unused = () => Promise.reject(new Error('unused'));
  const feed = createProgressFeed({ connectionString: deps.pgUrl, logger });
  const app = createApp({
    db,
    tours: { start: unused, advance: unused, feedback: unused, ping: deps.ping },
    replays: { replay: unused },
    verifier: createTokenVerifier({ secret: TEST_JWT_SECRET, issuer: 'tourhub', audience: 'tourhub-api' }),
    logger,
    rateLimits: { perMinute: { progress: 10, start: 5 } },
    integrations: { box: testSecretBox(), registry, oauthClients: {}, publicUrl: 'http://tourhub.test', connectorTimeoutMs: 2000, outbound },
    // The probes use none of these; the feed would only connect on a first progress stream.
    realtime: { feed, heartbeatMs: 15_000 },
    userWorkflows: { erase: unused },
    sync: { request: unused, ensureSchedule: unused, removeSchedule: unused, listSchedules: unused },
    analytics: { beaconTokenTtlSeconds: 600, pseudonymKey: new Uint8Array(32) },
  });
  return { app, lines, close: () => Promise.all([db.destroy(), outbound.close(), feed.close()]) };
}

describe('GET /readyz', () => {
  it('says which dependency failed with a stable code, and logs the driver message instead of answering it', async () => {
    const port = await freePort(); // nothing listens there
    const temporalDown = Object.assign(new Error(`14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED ${SECRET_HOST}:7233`), { code: 14 });
    const { app, lines, close } = appWith({ pgUrl: `postgres://tourhub:hunter2@127.0.0.1:${port}/tourhub`, ping: () => Promise.reject(temporalDown) });
    try {
      const res = await request(app).get('/readyz');
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.body.error).toMatchObject({
        code: 'not_ready',
        details: { checks: { postgres: 'failed', temporal: 'failed' }, reasons: { postgres: 'unreachable', temporal: 'unreachable' } },
      });
      const text = JSON.stringify(res.body);
      for (const leak of [SECRET_HOST, 'ECONNREFUSED', 'UNAVAILABLE', 'hunter2', String(port), 'tourhub:']) expect(text).not.toContain(leak);
      // The operator still learns why: in the log.
      const log = lines.join('');
      expect(log).toContain(SECRET_HOST);
      expect(log).toContain('ECONNREFUSED');
    } finally {
      await close();
    }
  });

  it('reports only the failing check, and a check that does not answer as a timeout', async () => {
    const { app, close } = appWith({ pgUrl: process.env[TEST_ENV_KEYS.pgUrl]!, ping: () => new Promise(() => undefined) });
    try {
      const res = await request(app).get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body.error.details).toEqual({ checks: { postgres: 'ok', temporal: 'failed' }, reasons: { temporal: 'timeout' } });
    } finally {
      await close();
    }
  });

  it('classifies any other failure as error, whatever its message says', () => {
    expect(classifyCheckFailure(new Error(`password authentication failed for user "tourhub" on ${SECRET_HOST}`))).toBe('error');
    expect(classifyCheckFailure(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))).toBe('unreachable');
    expect(classifyCheckFailure(new Error('wrapped', { cause: Object.assign(new Error('y'), { code: 'ECONNRESET' }) }))).toBe('unreachable');
  });
});
