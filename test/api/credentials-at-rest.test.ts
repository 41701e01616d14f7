import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { insertIntegration, openCredentials, type IntegrationRow } from '../../db/repositories/integrations';
import { createSecretBox, parseKeyring } from '../../db/secrets';
import { TEST_ENV_KEYS } from '../support/constants';
import { createOrg } from '../support/fixtures';
import { createDb, type Db } from '../../db/knex';

const KEY_A = 'a1:' + crypto.randomBytes(32).toString('base64');
const KEY_B = 'b2:' + crypto.randomBytes(32).toString('base64');
const SECRET = 'sk_live_this_must_never_be_stored_in_clear_1234';

let db: Db;

beforeAll(() => {
  db = createDb(process.env[TEST_ENV_KEYS.pgUrl]!, { poolMax: 2 });
});

afterAll(async () => {
  await db.destroy();
});

async function seedIntegrations(orgId: string, n: number): Promise<string[]> {
  const box = createSecretBox(parseKeyring(KEY_A), 'a1');
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = crypto.randomUUID();
    await insertIntegration(db, box, {
      id,
      organizationId: orgId,
      type: i % 2 ? 'crm' : 'payment',
      provider: `provider-${i}`,
      settings: { provider: {}, field_mapping: {}, enabled_events: [] },
      credentials: { apiKey: `${SECRET}-${i}`, accountSid: 'AC123' },
      isActive: true,
    });
    ids.push(id);
  }
  return ids;
}

describe('credentials at rest', () => {
  it('stores no plaintext secret: the table holds AES-256-GCM ciphertext with its key id', async () => {
    const org = await createOrg(db);
    const [id] = (await seedIntegrations(org.orgId, 1)) as [string];
    const raw = await db.raw(`select credentials::text as text, credentials from organization_integrations where id = ?`, [id]);
    expect(raw.rows[0].text).not.toContain(SECRET);
    expect(raw.rows[0].text).not.toContain('sk_live');
    expect(raw.rows[0].credentials).toMatchObject({ v: 1, kid: 'a1' });
    expect(Object.keys(raw.rows[0].credentials).sort()).toEqual(['ct', 'iv', 'kid', 'tag', 'v']);
  });

  it('binds a ciphertext to its row: copied into another integration it does not decrypt', async () => {
    const org = await createOrg(db);
    const [a, b] = await seedIntegrations(org.orgId, 2);
    const box = createSecretBox(parseKeyring(KEY_A), 'a1');
    const rowA = (await db('organization_integrations').where({ id: a }).first()) as IntegrationRow;
    const rowB = (await db('organization_integrations').where({ id: b }).first()) as IntegrationRow;
    expect(() => openCredentials(box, { ...rowB, credentials: rowA.credentials })).toThrow(/could not be decrypted/);
  });

  it('after `tourhub rotate-key`, every row decrypts with the new key alone', async () => {
    const org = await createOrg(db);
    const ids = await seedIntegrations(org.orgId, 3);
    const repo = path.resolve(__dirname, '..', '..');
    const run = spawnSync(process.execPath, [path.join(repo, 'bin', 'tourhub.js'), 'rotate-key'], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: process.env[TEST_ENV_KEYS.pgUrl],
        TOURHUB_SECRET_KEYS: `${KEY_A},${KEY_B}`,
        TOURHUB_ACTIVE_SECRET_KEY: 'b2',
        LOG_LEVEL: 'silent',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/re-encrypted with key "b2"/);

    const onlyNew = createSecretBox(parseKeyring(KEY_B), 'b2');
    for (const [i, id] of ids.entries()) {
      const row = (await db('organization_integrations').where({ id }).first()) as IntegrationRow;
      expect(row.credentials.kid).toBe('b2');
      expect(openCredentials(onlyNew, row)).toEqual({ apiKey: `${SECRET}-${i}`, accountSid: 'AC123' });
    }
    // Repeating it changes nothing.
    const again = spawnSync(process.execPath, [path.join(repo, 'bin', 'tourhub.js'), 'rotate-key'], {
      env: { PATH: process.env.PATH, DATABASE_URL: process.env[TEST_ENV_KEYS.pgUrl], TOURHUB_SECRET_KEYS: `${KEY_A},${KEY_B}`, TOURHUB_ACTIVE_SECRET_KEY: 'b2', LOG_LEVEL: 'silent' },
      encoding: 'utf8',
    });
    expect(again.stdout).toMatch(/^0 of \d+ integrations/);
  });
});
