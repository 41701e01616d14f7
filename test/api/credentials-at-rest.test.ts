import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { insertIntegration, openCredentials, type IntegrationRow } from '../../db/repositories/integrations';
import { createSecretBox, parseKeyring } from '../../db/secrets';
import { TEST_ENV_KEYS } from '../support/constants';
import { scratchDatabase } from '../support/databases';
import { createOrg } from '../support/fixtures';
import { createDb, type Db } from '../../db/knex';

const KEY_A = 'a1:' + crypto.randomBytes(32).toString('base64');
const KEY_B = 'b2:' + crypto.randomBytes(32).toString('base64');
const SECRET = 'sk_live_this_must_never_be_stored_in_clear_1234';

let shared: Db;

beforeAll(() => {
  shared = createDb(process.env[TEST_ENV_KEYS.pgUrl]!, { poolMax: 2 });
});

afterAll(async () => {
  await shared.destroy();
});

async function seedIntegrations(db: Db, orgId: string, n: number): Promise<string[]> {
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
    const db = shared;
    const org = await createOrg(db);
    const [id] = (await seedIntegrations(db, org.orgId, 1)) as [string];
    const raw = await db.raw(`select credentials::text as text, credentials from organization_integrations where id = ?`, [id]);
    expect(raw.rows[0].text).not.toContain(SECRET);
    expect(raw.rows[0].text).not.toContain('sk_live');
    expect(raw.rows[0].credentials).toMatchObject({ v: 1, kid: 'a1' });
    expect(Object.keys(raw.rows[0].credentials).sort()).toEqual(['ct', 'iv', 'kid', 'tag', 'v']);
  });

  it('binds a ciphertext to its row: copied into another integration it does not decrypt', async () => {
    const db = shared;
    const org = await createOrg(db);
    const [a, b] = await seedIntegrations(db, org.orgId, 2);
    const box = createSecretBox(parseKeyring(KEY_A), 'a1');
    const rowA = (await db('organization_integrations').where({ id: a }).first()) as IntegrationRow;
    const rowB = (await db('organization_integrations').where({ id: b }).first()) as IntegrationRow;
    expect(() => openCredentials(box, { ...rowB, credentials: rowA.credentials })).toThrow(/could not be decrypted/);
  });

  describe('`tourhub rotate-key`', () => {
    let scratch: Awaited<ReturnType<typeof scratchDatabase>>;
    const rotate = () =>
      spawnSync(process.execPath, [path.join(path.resolve(__dirname, '..', '..'), 'bin', 'tourhub.js'), 'rotate-key'], {
        env: { PATH: process.env.PATH, DATABASE_URL: scratch.url, TOURHUB_SECRET_KEYS: `${KEY_A},${KEY_B}`, TOURHUB_ACTIVE_SECRET_KEY: 'b2', LOG_LEVEL: 'silent' },
        encoding: 'utf8',
        timeout: 60_000,
      });

    beforeEach(async () => {
      // Rotation touches every row of every organisation: a database of its own.
      scratch = await scratchDatabase({ migrate: true });
    });
    afterEach(async () => {
      await scratch.drop();
    });

  it('re-encrypts every row so each decrypts with the new key alone', async () => {
    const db = scratch.db;
    const org = await createOrg(db);
    const ids = await seedIntegrations(db, org.orgId, 3);
    const run = rotate();
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('3 of 3 integrations re-encrypted with key "b2"\n');

    const onlyNew = createSecretBox(parseKeyring(KEY_B), 'b2');
    for (const [i, id] of ids.entries()) {
      const row = (await db('organization_integrations').where({ id }).first()) as IntegrationRow;
      expect(row.credentials.kid).toBe('b2');
      expect(openCredentials(onlyNew, row)).toEqual({ apiKey: `${SECRET}-${i}`, accountSid: 'AC123' });
    }
    // Repeating it changes nothing.
    expect(rotate().stdout).toBe('0 of 3 integrations re-encrypted with key "b2"\n');
  });

  it('reports a row its keyring cannot open, rotates the others and exits non-zero', async () => {
    const db = scratch.db;
    const org = await createOrg(db);
    const [good] = await seedIntegrations(db, org.orgId, 1);
    const strangerBox = createSecretBox(parseKeyring('zz:' + crypto.randomBytes(32).toString('base64')), 'zz');
    const stranger = crypto.randomUUID();
    await insertIntegration(db, strangerBox, {
      id: stranger, organizationId: org.orgId, type: 'sms', provider: 'twilio',
      settings: { provider: {}, field_mapping: {}, enabled_events: [] }, credentials: { authToken: 'x' }, isActive: true,
    });
    const run = rotate();
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('1 of 2 integrations re-encrypted with key "b2"\n');
    expect(run.stderr).toContain(`integration ${stranger}: no key "zz"`);
    expect(((await db('organization_integrations').where({ id: good }).first()) as IntegrationRow).credentials.kid).toBe('b2');
  });
  });
});
