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
    events: await db('outbound_events').where({ organization_id: org.orgId }).orderBy(['created_at', 'event_type']).pluck('event_type'),
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

  it('marks the integration degraded once past the threshold with enough attempts, opens its breaker, and says so once however often it is judged', async () => {
    const i = await integration();
    await i.attempts(9, true);
    await i.attempts(1, false); // 90% over 10 attempts
    const change = await assessHealth(db, i.row, THRESHOLDS);
    expect(change).toEqual({ to: 'degraded', attempts: 10, successRate: 0.9 });
    for (let n = 0; n < 3; n++) expect(await assessHealth(db, i.row, THRESHOLDS)).toBeNull();
    // Several workers judging at the same moment still flip it once.
    await i.attempts(5, false);
    await Promise.all(Array.from({ length: 5 }, () => assessHealth(db, i.row, THRESHOLDS)));
    expect(await i.state()).toEqual({ health: 'degraded', events: ['integration.degraded', 'integration.paused'] });
    const row = await db('organization_integrations').where({ id: i.row.id }).first('health_changed_at', 'breaker_state', 'breaker_next_probe_at');
    expect(row.health_changed_at).toBeInstanceOf(Date);
    expect(row.breaker_state).toBe('open');
    expect(row.breaker_next_probe_at.getTime()).toBeGreaterThan(row.health_changed_at.getTime());
    const events = await db('outbound_events').where({ subject_id: i.row.id }).orderBy('event_type').select('event_type', 'payload');
    expect(events).toEqual([
      { event_type: 'integration.degraded', payload: expect.objectContaining({ integration_id: i.row.id, provider: 'tave', success_rate: 0.9, attempts: 10, threshold: 0.95 }) },
      { event_type: 'integration.paused', payload: expect.objectContaining({ integration_id: i.row.id, provider: 'tave', reason: 'degraded' }) },
    ]);
  });

  it('notices recovery as soon as calls succeed again: the last few attempts since the flip, not the rest of the hour', async () => {
    // Issue 13, tried as a new user would: a 10-second CRM outage, then calls succeed again.
    const i = await integration();
    await i.attempts(10, false, 5_000);
    expect(await assessHealth(db, i.row, THRESHOLDS)).toMatchObject({ to: 'degraded' });
    await i.attempts(2, true, 0);
    expect(await assessHealth(db, i.row, THRESHOLDS)).toBeNull(); // two successes: not yet
    await i.attempts(1, true, 0);
    const started = Date.now();
    expect(await assessHealth(db, i.row, THRESHOLDS)).toEqual({ to: 'healthy', attempts: 3, successRate: 1 });
    expect(Date.now() - started).toBeLessThan(60_000);
    await Promise.all(Array.from({ length: 3 }, () => assessHealth(db, i.row, THRESHOLDS)));
    expect(await i.state()).toEqual({ health: 'healthy', events: ['integration.degraded', 'integration.paused', 'integration.recovered'] });
    expect(await db('organization_integrations').where({ id: i.row.id }).first('breaker_state')).toEqual({ breaker_state: 'closed' });
    // The outage's failures are in the last hour, but before the recovery: one more failure does not degrade it again.
    await i.attempts(1, false, 0);
    expect(await assessHealth(db, i.row, THRESHOLDS)).toBeNull();
    expect((await i.state()).health).toBe('healthy');
  });

  it('a success between failures since the flip does not count as a recovery', async () => {
    const i = await integration();
    await i.attempts(10, false, 5_000);
    await assessHealth(db, i.row, THRESHOLDS);
    await i.attempts(2, true, 0);
    await new Promise((r) => setTimeout(r, 5)); // processed_at order
    await i.attempts(1, false, 0);
    await new Promise((r) => setTimeout(r, 5));
    await i.attempts(2, true, 0);
    expect(await assessHealth(db, i.row, THRESHOLDS)).toBeNull();
    expect((await i.state()).health).toBe('degraded');
  });

  it('judges degradation over HUB_HEALTH_WINDOW: with a one-minute window, failures two minutes ago say nothing', async () => {
    const i = await integration();
    await i.attempts(20, false, 120_000);
    await i.attempts(5, true, 1_000);
    expect(await assessHealth(db, i.row, { ...THRESHOLDS, minAttempts: 3, windowMs: 60_000 })).toBeNull();
    expect(await assessHealth(db, i.row, { ...THRESHOLDS, minAttempts: 3, windowMs: 3_600_000 })).toMatchObject({ to: 'degraded' });
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
