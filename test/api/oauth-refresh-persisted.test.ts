import crypto from 'node:crypto';
import nock from 'nock';
import { createConnectorFactory } from '../../activities/connector-factory';
import { googleOAuth } from '../../connectors/calendar/oauth-providers';
import { registry } from '../../connectors/registry';
import { createDb, type Db } from '../../db/knex';
import { findIntegration, insertIntegration, openCredentials } from '../../db/repositories/integrations';
import { slowReply } from '../support/nock';
import { TEST_ENV_KEYS } from '../support/constants';
import { memoryGuard, testOutbound } from '../support/connectors';
import { createOrg } from '../support/fixtures';
import { testSecretBox } from '../support/stack';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const now = () => NOW;
const box = testSecretBox();
let db: Db;

beforeAll(() => {
  db = createDb(process.env[TEST_ENV_KEYS.pgUrl]!, { poolMax: 12 });
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/); // Postgres
});

afterAll(async () => {
  nock.cleanAll();
  nock.enableNetConnect();
  await db.destroy();
});

/** Stands for one worker process: its own factory, so its own in-memory OAuth session. */
function workerFactory() {
  return createConnectorFactory({
    db,
    box,
    registry,
    timeoutMs: 2000,
    outbound: testOutbound(),
    refreshGrants: { 'google-calendar': googleOAuth.refreshGrant({ clientId: 'client-123', clientSecret: 'shh', timeoutMs: 2000, guard: testOutbound(), now }) },
    guardFor: () => memoryGuard(),
    now,
  });
}

const consultation = {
  summary: 'Follow-up consultation',
  start: '2026-11-26T14:00:00',
  end: '2026-11-26T15:00:00',
  timeZone: 'America/New_York',
  attendees: [{ email: 'couple@example.com' }],
};

describe('an expired Google token', () => {
  it('is refreshed once under 10 concurrent calls from two workers, and the new token is persisted encrypted', async () => {
    const org = await createOrg(db);
    const id = crypto.randomUUID();
    await insertIntegration(db, box, {
      id,
      organizationId: org.orgId,
      type: 'calendar',
      provider: 'google-calendar',
      settings: { provider: {}, field_mapping: {}, enabled_events: [] },
      credentials: { accessToken: 'ya29.expired', refreshToken: '1//refresh-token', expiresAt: NOW - 60_000 },
      isActive: true,
    });

    // One interceptor, not persisted: a second refresh anywhere would find nothing and fail its call.
    const tokenEndpoint = nock('https://oauth2.googleapis.com')
      .post('/token', (body) => body.grant_type === 'refresh_token' && body.refresh_token === '1//refresh-token')
      .reply(slowReply(100, 200, { access_token: 'ya29.fresh-token', expires_in: 3600, token_type: 'Bearer' }));
    const calendar = nock('https://www.googleapis.com')
      .post('/calendar/v3/calendars/primary/events')
      .query(true)
      .times(10)
      .matchHeader('authorization', 'Bearer ya29.fresh-token')
      .reply(200, (_uri, body) => ({ id: (body as { id: string }).id, status: 'confirmed' }));

    const row = (await findIntegration(db, id))!;
    const [a, b] = [workerFactory(), workerFactory()];
    const calls = Array.from({ length: 10 }, (_, i) =>
      (i % 2 ? a : b).forIntegration<'calendar'>(row).createEvent(consultation, { idempotencyKey: `evt-${i}` }),
    );
    const results = await Promise.all(calls);
    expect(results).toHaveLength(10);
    expect(tokenEndpoint.isDone()).toBe(true);
    expect(calendar.isDone()).toBe(true);

    const raw = await db.raw(`select credentials::text as t from organization_integrations where id = ?`, [id]);
    expect(raw.rows[0].t).not.toContain('ya29.fresh-token');
    expect(raw.rows[0].t).not.toContain('1//refresh-token');
    const stored = openCredentials(box, (await findIntegration(db, id))!);
    expect(stored).toMatchObject({ accessToken: 'ya29.fresh-token', refreshToken: '1//refresh-token', expiresAt: NOW + 3_600_000 });
  });
});
