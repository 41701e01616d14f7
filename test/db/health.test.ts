import { createDb, type Db } from '../../db/knex';
import { assessHealth } from '../../db/repositories/health';
import { TEST_ENV_KEYS } from '../support/constants';
import { createOrg } from '../support/fixtures';
import { insertAttempts, insertTestIntegration } from '../support/hub-rows';
import { testSecretBox } from '../support/stack';

const box = testSecretBox();
const THRESHOLDS = { degradedBelow: 0.95, minAttempts: 10 };
let db: Db;

beforeAll(() => {
  db = createDb(process.env[TEST_ENV_KEYS.pgUrl]!, { poolMax: 6 });
});

afterAll(async () => {
  await db.destroy();
});

async function integration() {
  const org = await createOrg(db);
  const id = await insertTestIntegration(db, box, { orgId: org.orgId, provider: 'tave' });
  const row = { id, organization_id: org.orgId, provider: 'tave' };
  const attempts = (n: number, success: boolean, agoMs = 60_000) =>
    insertAttempts(db, { orgId: org.orgId, integrationId: id, provider: 'tave' }, Array.from({ length: n }, () => ({ success, durationMs: 25, agoMs })));
  const state = async () => ({
    health: (await db('organization_integrations').where({ id }).first('health')).health as string,
    events: await db('outbound_events').where({ organization_id: org.orgId }).orderBy('created_at').pluck('event_type'),
  });
  return { row, attempts, state };
}

describe('assessHealth', () => {
  it('says nothing below minAttempts, however bad the rate', async () => {
    const i = await integration();
    await i.attempts(9, false);
    expect(await assessHealth(db, i.row, THRESHOLDS)).toBeNull();
    expect(await i.state()).toEqual({ health: 'healthy', events: [] });
  });

  it('marks the integration degraded once past the threshold with enough attempts, with one outbound event however often it is judged', async () => {
    const i = await integration();
    await i.attempts(9, true);
    await i.attempts(1, false); // 90% over 10 attempts
    const change = await assessHealth(db, i.row, THRESHOLDS);
    expect(change).toMatchObject({ to: 'degraded', stats: { lastHour: { attempts: 10, succeeded: 9, successRate: 0.9 } } });
    for (let n = 0; n < 3; n++) expect(await assessHealth(db, i.row, THRESHOLDS)).toBeNull();
    // Several workers judging at the same moment still flip it once.
    await i.attempts(5, false);
    await Promise.all(Array.from({ length: 5 }, () => assessHealth(db, i.row, THRESHOLDS)));
    expect(await i.state()).toEqual({ health: 'degraded', events: ['integration.degraded'] });
    const changedAt = (await db('organization_integrations').where({ id: i.row.id }).first('health_changed_at')).health_changed_at;
    expect(changedAt).toBeInstanceOf(Date);
  });

  it('marks it recovered when the last hour is back above the threshold, once', async () => {
    const i = await integration();
    await i.attempts(10, false);
    expect(await assessHealth(db, i.row, THRESHOLDS)).toMatchObject({ to: 'degraded' });
    await i.attempts(100, true); // 100 of 110: 0.909, still degraded
    expect(await assessHealth(db, i.row, THRESHOLDS)).toBeNull();
    await i.attempts(100, true); // 200 of 210: 0.952
    expect(await assessHealth(db, i.row, THRESHOLDS)).toMatchObject({ to: 'healthy' });
    await Promise.all(Array.from({ length: 3 }, () => assessHealth(db, i.row, THRESHOLDS)));
    expect(await i.state()).toEqual({ health: 'healthy', events: ['integration.degraded', 'integration.recovered'] });
    const [degraded, recovered] = await db('outbound_events').where({ subject_id: i.row.id }).orderBy('created_at').select('payload');
    expect(degraded.payload).toMatchObject({ integration_id: i.row.id, provider: 'tave', success_rate_last_hour: 0, attempts_last_hour: 10, threshold: 0.95 });
    expect(recovered.payload).toMatchObject({ success_rate_last_hour: 200 / 210, attempts_last_hour: 210 });
  });

  it('judges the last hour only: older failures do not degrade', async () => {
    const i = await integration();
    await i.attempts(50, false, 2 * 3_600_000);
    await i.attempts(10, true);
    expect(await assessHealth(db, i.row, THRESHOLDS)).toBeNull();
    expect(await i.state()).toEqual({ health: 'healthy', events: [] });
  });

  it('leaves a disabled integration disabled', async () => {
    const i = await integration();
    await db('organization_integrations').where({ id: i.row.id }).update({ is_active: false, health: 'disabled' });
    await i.attempts(10, false);
    expect(await assessHealth(db, i.row, THRESHOLDS)).toBeNull();
    expect(await i.state()).toEqual({ health: 'disabled', events: [] });
  });
});
