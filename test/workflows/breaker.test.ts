import crypto from 'node:crypto';
import request from 'supertest';
import { insertIntegration } from '../../db/repositories/integrations';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { useProviderStack } from '../support/provider-stack';
import { testSecretBox, tokenFor } from '../support/stack';

/**
 * The circuit breaker on the real path: a couple's tour through the API, the tour workflow's lanes, the
 * deliver activity on the provider's queue and a loopback Táve that goes down. Judged degraded, the
 * integration is paused: its calls wait instead of hammering the provider, one probe a second goes
 * through, and the first that succeeds closes the breaker; the lane then sends everything, each once.
 */

const box = testSecretBox();
const PROBE_MS = 1_000;
const setup = useProviderStack({
  providers: ['tave'],
  box,
  config: {
    HUB_RETRY_INITIAL_INTERVAL: '100ms',
    HUB_RETRY_MAX_INTERVAL: '200ms',
    HUB_RETRY_MAX_ATTEMPTS: '1000',
    HUB_DEGRADED_MIN_ATTEMPTS: '4',
    HUB_BREAKER_PROBE_INTERVAL: `${PROBE_MS}ms`,
    HUB_CHECK_IN_AFTER: '30d', // no check-in falls due during the test
  },
});

describe('the circuit breaker, from a tour to a provider that goes down and comes back', () => {
  it('pauses the integration once degraded, lets one probe through per interval, closes on the first success, and sends every call once', async () => {
    const { stack, fakes, eventually } = setup;
    const org: OrgFixture = await createOrg(stack.ownerDb, { steps: 2 });
    await stack.ownerDb('organization_members').where({ organization_id: org.orgId, user_id: org.memberId }).update({ email: 'ava@breaker.test', display_name: 'Ava Reed' });
    const integrationId = crypto.randomUUID();
    const fake = fakes.get('tave');
    await insertIntegration(stack.ownerDb, box, {
      id: integrationId,
      organizationId: org.orgId,
      type: 'crm',
      provider: 'tave',
      settings: { provider: {}, field_mapping: {}, enabled_events: [] },
      credentials: fake.integration.credentials,
      isActive: true,
    });
    const events = async () => (await stack.ownerDb('outbound_events').where({ subject_id: integrationId }).orderBy(['created_at', 'event_type']).pluck('event_type')) as string[];

    fake.down();
    const token = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    const started = await request(stack.app).post(`/api/tours/${org.tourId}/start`).set('Authorization', `Bearer ${token}`).send({});
    expect(started.status).toBe(201);
    await request(stack.app).put(`/api/tours/progress/${started.body.progress_id}`).set('Authorization', `Bearer ${token}`).send({ action: 'next_step' }).expect(200);
    await request(stack.app).put(`/api/tours/progress/${started.body.progress_id}`).set('Authorization', `Bearer ${token}`).send({ action: 'next_step' }).expect(200);

    // Four failed attempts judge it degraded: the breaker opens.
    await eventually(async () => (await events()).includes('integration.paused'), 'the breaker to open', 30_000);
    expect(await events()).toEqual(['integration.degraded', 'integration.paused']);

    // Paused: retries every 100 to 200 ms would make 15 or more requests in three seconds; the breaker lets
    // through one probe a second (each a failed call), the rest wait.
    const before = fake.calls().length;
    await new Promise((r) => setTimeout(r, 3_000));
    const during = fake.calls().length - before;
    expect(during).toBeLessThanOrEqual(5);
    expect(during).toBeGreaterThanOrEqual(1);

    // Back up: the next probe succeeds, the breaker closes, the lane sends the rest in order.
    fake.up();
    const upAt = Date.now();
    await eventually(async () => (await events()).includes('integration.recovered'), 'the recovery');
    expect(Date.now() - upAt).toBeLessThan(10_000);
    expect(await stack.ownerDb('organization_integrations').where({ id: integrationId }).first('health', 'breaker_state')).toEqual({ health: 'healthy', breaker_state: 'closed' });
    const rows = await eventually(async () => {
      const all = await stack.ownerDb('integration_deliveries').where({ integration_id: integrationId }).select('event_type', 'action', 'status');
      return all.length === 3 && all.every((d) => d.status === 'succeeded') && all;
    }, 'every delivery to succeed');
    expect(rows.map((r) => `${r.event_type}:${r.action}`).sort()).toEqual(['tour_completed:crm.createTask', 'tour_completed:crm.logActivity', 'tour_started:crm.logActivity']);
    expect(fake.duplicates()).toEqual([]);
    const notes = fake.calls().filter((c) => c.outcome === 'applied' && c.path.endsWith('/note'));
    expect(notes).toHaveLength(3);
    // In order: the start's note before the completion's.
    expect(String((notes[0]!.body as { contentHtml: string }).contentHtml)).toContain('tour_started');
    expect(await events()).toEqual(['integration.degraded', 'integration.paused', 'integration.recovered']);
  }, 90_000);
});
