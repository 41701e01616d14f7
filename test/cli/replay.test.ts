import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { DeliveryReplays } from '../../services/temporal';
import { parseReplayArgs, replay, type ReplayArgs } from '../../cli/commands/replay';
import { createDb, type Db } from '../../db/knex';
import { replayWorkflowId } from '../../workflows/delivery-replay';
import { TEST_ENV_KEYS } from '../support/constants';
import { createOrg } from '../support/fixtures';
import { insertTestDelivery, insertTestIntegration } from '../support/hub-rows';
import { testSecretBox } from '../support/stack';

const ID = '6f1c2a4e-8b7d-4c3a-9e2f-1a2b3c4d5e6f';

describe('parseReplayArgs', () => {
  const accepted: [string, string[], ReplayArgs][] = [
    ['one delivery', ['--delivery', ID], { kind: 'delivery', deliveryId: ID }],
    ['an integration', ['--integration', ID], { kind: 'integration', integrationId: ID, status: 'dead' }],
    ['an integration with --status dead', ['--integration', ID, '--status', 'dead'], { kind: 'integration', integrationId: ID, status: 'dead' }],
    ['--flag=value', [`--integration=${ID}`, '--status=dead'], { kind: 'integration', integrationId: ID, status: 'dead' }],
    ['help', ['--help'], { kind: 'help' }],
  ];
  it.each(accepted)('accepts %s', (_name, argv, args) => {
    expect(parseReplayArgs(argv)).toEqual({ ok: true, args });
  });

  const refused: [string, string[], RegExp][] = [
    ['nothing', [], /--delivery <id> or --integration <id>/],
    ['both', ['--delivery', ID, '--integration', ID], /not both/],
    ['a delivery id that is not a UUID', ['--delivery', '42'], /--delivery must be a delivery id \(a UUID\), got "42"/],
    ['an integration id that is not a UUID', ['--integration', 'tave'], /--integration must be an integration id/],
    ['a status other than dead', ['--integration', ID, '--status', 'failed'], /--status can only be "dead" \(got "failed"\)/],
    ['--status with --delivery', ['--delivery', ID, '--status', 'dead'], /--status goes with --integration/],
    ['an unknown option', ['--delivery', ID, '--force'], /Unknown option '--force'/],
    ['a positional argument', [ID], /Unexpected argument/],
    ['a missing value', ['--delivery'], /argument missing/],
  ];
  it.each(refused)('refuses %s with a message', (_name, argv, message) => {
    const parsed = parseReplayArgs(argv);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.error).toMatch(message);
  });

  it('exits 2 with the message and the usage on bad arguments', () => {
    const result = spawnSync(process.execPath, [path.resolve(__dirname, '..', '..', 'bin', 'tourhub.js'), 'replay', '--delivery', 'nope'], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('tourhub replay: --delivery must be a delivery id (a UUID), got "nope"');
    expect(result.stderr).toContain('Usage: tourhub replay --delivery <delivery id>');
    expect(result.stdout).toBe('');
  });
});

describe('tourhub replay', () => {
  const box = testSecretBox();
  const started: string[] = [];
  const replays: DeliveryReplays = {
    async replay(deliveryId) {
      started.push(deliveryId);
      return { workflowId: replayWorkflowId(deliveryId), runId: 'r' };
    },
  };
  let db: Db;
  let out: string[];
  let err: string[];
  const io = () => ({ db, replays, out: (l: string) => out.push(l), err: (l: string) => err.push(l) });

  beforeAll(() => {
    db = createDb(process.env[TEST_ENV_KEYS.pgUrl]!, { poolMax: 2 });
  });
  afterAll(async () => {
    await db.destroy();
  });
  beforeEach(() => {
    started.length = 0;
    out = [];
    err = [];
  });

  it('prints one line per replay started and a total, across organisations with the owner connection', async () => {
    const org = await createOrg(db);
    const integrationId = await insertTestIntegration(db, box, { orgId: org.orgId, provider: 'tave' });
    const first = await insertTestDelivery(db, box, { orgId: org.orgId, integrationId, createdAt: new Date(Date.now() - 120_000) });
    const second = await insertTestDelivery(db, box, { orgId: org.orgId, integrationId, eventType: 'tour_abandoned', createdAt: new Date(Date.now() - 60_000) });
    await insertTestDelivery(db, box, { orgId: org.orgId, integrationId, status: 'succeeded' });

    expect(await replay(io(), { kind: 'integration', integrationId, status: 'dead' })).toBe(0);
    expect(out).toEqual([
      `started  delivery ${first.id}  tave crm.logActivity for tour_completed  workflow delivery-replay:${first.id}`,
      `started  delivery ${second.id}  tave crm.logActivity for tour_abandoned  workflow delivery-replay:${second.id}`,
      '2 replays started',
    ]);
    expect(err).toEqual([]);
    expect(started.sort()).toEqual([first.id, second.id].sort());
  });

  it('replays one delivery by id', async () => {
    const org = await createOrg(db);
    const integrationId = await insertTestIntegration(db, box, { orgId: org.orgId, provider: 'tave' });
    const dead = await insertTestDelivery(db, box, { orgId: org.orgId, integrationId });
    expect(await replay(io(), { kind: 'delivery', deliveryId: dead.id })).toBe(0);
    expect(out).toEqual([expect.stringContaining(`delivery ${dead.id}`), '1 replay started']);
  });

  it('exits 1 with the reason when there is nothing it may replay', async () => {
    const org = await createOrg(db);
    const integrationId = await insertTestIntegration(db, box, { orgId: org.orgId, provider: 'tave' });
    const delivered = await insertTestDelivery(db, box, { orgId: org.orgId, integrationId, status: 'succeeded' });
    expect(await replay(io(), { kind: 'delivery', deliveryId: delivered.id })).toBe(1);
    expect(err).toEqual([expect.stringMatching(/already succeeded.*\(already_delivered\)$/)]);
    // In flight: a replay would race the call the hub still owes.
    const retrying = await insertTestDelivery(db, box, { orgId: org.orgId, integrationId, status: 'failed' });
    expect(await replay(io(), { kind: 'delivery', deliveryId: retrying.id })).toBe(1);
    expect(err.pop()).toMatch(/Only a dead delivery is replayed; this one is failed.*\(delivery_not_dead\)$/);
    expect(await replay(io(), { kind: 'delivery', deliveryId: crypto.randomUUID() })).toBe(1);
    expect(await replay(io(), { kind: 'integration', integrationId: crypto.randomUUID(), status: 'dead' })).toBe(1);
    expect(err.slice(1)).toEqual([expect.stringMatching(/Delivery not found \(not_found\)/), expect.stringMatching(/Integration not found \(not_found\)/)]);
    expect(started).toEqual([]);
    expect(out).toEqual([]);
  });
});
