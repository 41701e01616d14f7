import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseWebhookSecretArgs } from '../../cli/commands/webhook-secret';
import { createDb, type Db } from '../../db/knex';
import { openValidSigningSecrets } from '../../db/repositories/signing-secrets';
import { TEST_ENV_KEYS } from '../support/constants';
import { createOrg } from '../support/fixtures';
import { TEST_KEYRING, testSecretBox } from '../support/stack';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'tourhub.js');

describe('parseWebhookSecretArgs', () => {
  it('takes an organisation and an optional grace in hours', () => {
    expect(parseWebhookSecretArgs(['--org', 'demo'])).toEqual({ ok: true, args: { kind: 'rotate', org: 'demo' } });
    expect(parseWebhookSecretArgs(['--org=demo', '--grace', '0'])).toEqual({ ok: true, args: { kind: 'rotate', org: 'demo', graceHours: 0 } });
    expect(parseWebhookSecretArgs(['-h'])).toEqual({ ok: true, args: { kind: 'help' } });
  });

  it.each([
    [[], /Give --org/],
    [['--org', 'demo', '--grace', '1.5'], /whole hours from 0 to 720, got "1.5"/],
    [['--org', 'demo', '--grace', '721'], /whole hours/],
    [['--org', 'demo', '--force'], /Unknown option '--force'/],
  ])('refuses %j', (argv, message) => {
    const parsed = parseWebhookSecretArgs(argv);
    expect(parsed.ok ? '' : parsed.error).toMatch(message);
  });
});

describe('tourhub webhook-secret', () => {
  let db: Db;
  beforeAll(() => {
    db = createDb(process.env[TEST_ENV_KEYS.pgUrl]!, { poolMax: 2 });
  });
  afterAll(async () => {
    await db.destroy();
  });

  const run = (args: string[]) =>
    spawnSync(process.execPath, [BIN, 'webhook-secret', ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, DATABASE_URL: process.env[TEST_ENV_KEYS.pgUrl], TOURHUB_SECRET_KEYS: TEST_KEYRING, TOURHUB_ACTIVE_SECRET_KEY: 'k1', LOG_LEVEL: 'silent' },
    });

  it('prints a new secret once, which the organisation then signs with; the one it replaces ends with --grace 0', async () => {
    const org = await createOrg(db);
    const first = run(['--org', org.slug]);
    expect(first.status).toBe(0);
    const secret = first.stdout.trim();
    expect(secret).toMatch(/^wss_[\w-]{43}$/);
    expect(first.stderr).toContain(org.slug);
    expect(await openValidSigningSecrets(db, testSecretBox(), org.orgId)).toEqual([secret]);
    const second = run(['--org', org.orgId, '--grace', '0']);
    expect(second.status).toBe(0);
    expect(await openValidSigningSecrets(db, testSecretBox(), org.orgId)).toEqual([second.stdout.trim()]);
  });

  it('exits 1 for an unknown organisation and 2 with the usage for bad arguments', () => {
    const unknown = run(['--org', 'no-such-org']);
    expect({ status: unknown.status, stderr: unknown.stderr.trim() }).toEqual({ status: 1, stderr: 'No organisation "no-such-org"' });
    const bad = run(['--grace', '2']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('Usage: tourhub webhook-secret');
    expect(bad.stdout).toBe('');
  });
});
