import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { createTokenVerifier } from '../../api/middleware/auth';
import { createOrg as createOrgCommand, parseOrgArgs } from '../../cli/commands/org';
import { slugFrom } from '../../services/organizations';
import { TEST_APP_PASSWORD, TEST_ENV_KEYS, TEST_JWT_SECRET } from '../support/constants';
import { startStack, tokenFor, type Stack } from '../support/stack';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'tourhub.js');

let stack: Stack;

beforeAll(async () => {
  // Roles change under the running API here: it asks Postgres on every request rather than trust them for 30 s.
  stack = await startStack({ worker: false, config: { MEMBERSHIP_CACHE_TTL: '0' } });
});

afterAll(async () => {
  await stack.close();
});

/** Runs `tourhub <args>` against the test database, as an operator would. */
function tourhub(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        PATH: process.env.PATH,
        TOURHUB_ENV: 'test',
        DATABASE_URL: process.env[TEST_ENV_KEYS.pgUrl]!,
        DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: 'silent',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const silent = { json: false, write: () => undefined, error: () => undefined };

describe('tourhub org create', () => {
  it('creates an organisation and its first admin, prints their ids, and the admin can use the API at once', async () => {
    const admin = crypto.randomUUID().toUpperCase();
    const slug = `acme-${crypto.randomUUID().slice(0, 8)}`;
    const created = await tourhub(['org', 'create', '--name', 'Acme Weddings', '--slug', slug, '--admin-user', admin, '--admin-email', 'owner@acme.test', '--json']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const printed = JSON.parse(created.stdout) as { organization_id: string; slug: string; admin_user_id: string; created: boolean };
    expect(printed).toEqual({ organization_id: expect.stringMatching(/^[0-9a-f-]{36}$/), slug, name: 'Acme Weddings', admin_user_id: admin.toLowerCase(), auto_provision_members: false, created: true });
    expect(await stack.ownerDb('organization_members').select('user_id', 'role', 'email').where({ organization_id: printed.organization_id })).toEqual([
      { user_id: admin.toLowerCase(), role: 'admin', email: 'owner@acme.test' },
    ]);

    // The token command mints for the new admin without changing their membership.
    const minted = await tourhub(['token', '--org', slug, '--user', admin]);
    expect({ code: minted.code, stderr: minted.stderr }).toEqual({ code: 0, stderr: '' });
    const token = minted.stdout.trim();
    const res = await request(stack.app).get('/api/integrations').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);

    // Again, the same: the same ids, nothing changed.
    const again = await tourhub(['org', 'create', '--name', 'Acme Weddings', '--slug', slug, '--admin-user', admin]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already exists with this admin; nothing changed');
    expect(again.stdout).toContain(`organization_id  ${printed.organization_id}`);
  }, 60_000);

  it('refuses a slug taken by another organisation, or by the same one for another admin, and changes nothing', async () => {
    const slug = `taken-${crypto.randomUUID().slice(0, 8)}`;
    const first = crypto.randomUUID();
    const made = await createOrgCommand(stack.ownerDb, { name: 'First Planner', slug, adminUserId: first }, silent);
    expect(made).toBe(0);
    const errors: string[] = [];
    const out = { ...silent, error: (s: string) => errors.push(s) };
    expect(await createOrgCommand(stack.ownerDb, { name: 'Second Planner', slug, adminUserId: first }, out)).toBe(1);
    const stranger = crypto.randomUUID();
    expect(await createOrgCommand(stack.ownerDb, { name: 'First Planner', slug, adminUserId: stranger }, out)).toBe(1);
    expect(errors.join('')).toMatch(/slug "taken-[0-9a-f]+" is taken by "First Planner".*\(organization_exists\)/);
    expect(errors[1]).toMatch(/which this user is not an admin of/);
    const org = await stack.ownerDb('organizations').where({ slug }).first();
    expect(org.name).toBe('First Planner');
    expect(await stack.ownerDb('organization_members').where({ organization_id: org.id }).pluck('user_id')).toEqual([first]);
  });

  it('with --auto-provision, lets an unknown user of the organisation\'s tokens in as a member', async () => {
    const slug = `open-${crypto.randomUUID().slice(0, 8)}`;
    const lines: string[] = [];
    expect(await createOrgCommand(stack.ownerDb, { name: 'Open Planner', slug, adminUserId: crypto.randomUUID(), autoProvisionMembers: true }, { ...silent, write: (s) => lines.push(s) })).toBe(0);
    expect(lines.join('')).toContain('members from tokens  yes');
    const org = await stack.ownerDb('organizations').where({ slug }).first();
    expect(org.auto_provision_members).toBe(true);
    const newcomer = crypto.randomUUID();
    const token = await tokenFor(stack, { orgId: org.id, userId: newcomer }, { membership: 'as-is' });
    expect((await request(stack.app).get('/api/tours').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect(await stack.ownerDb('organization_members').where({ organization_id: org.id, user_id: newcomer }).first('role')).toEqual({ role: 'member' });
    expect(parseOrgArgs(['create', '--name', 'X', '--admin-user', crypto.randomUUID(), '--auto-provision'])).toMatchObject({ ok: true, input: { autoProvisionMembers: true } });
  });

  it('makes a slug from the name, or asks for one', async () => {
    expect(slugFrom("Ava & Léo's Weddings")).toBe('ava-leo-s-weddings');
    expect(slugFrom('  --Été 2027!!  ')).toBe('ete-2027');
    expect(slugFrom('💍💍')).toBe('');
    const errors: string[] = [];
    expect(await createOrgCommand(stack.ownerDb, { name: '💍💍', adminUserId: crypto.randomUUID() }, { ...silent, error: (s) => errors.push(s) })).toBe(1);
    expect(errors.join('')).toMatch(/give one with --slug \(invalid_slug\)/);
  });

  it.each([
    [['create', '--name', 'X'], /--admin-user is required/],
    [['create', '--name', 'X', '--admin-user', 'nope'], /--admin-user must be a user id/],
    [['create', '--name', ' ', '--admin-user', crypto.randomUUID()], /--name is required/],
    [['create', '--name', 'X', '--admin-user', crypto.randomUUID(), '--admin-email', 'not-an-email'], /--admin-email must be an email address/],
    [['delete', '--name', 'X'], /Unknown subcommand "delete"/],
    [['create', '--colour', 'blue'], /Unknown option '--colour'/],
  ])('refuses %j with a message', (argv, message) => {
    const parsed = parseOrgArgs(argv);
    expect(parsed.ok ? '' : parsed.error).toMatch(message);
  });

  it('exits 2 with the usage on bad arguments', async () => {
    const result = await tourhub(['org', 'create', '--name', 'X']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage: tourhub org create --name <name>');
  }, 30_000);
});

describe('tourhub token', () => {
  it('makes the user a member with the role asked for, outside production, and mints a token the API accepts', async () => {
    const org = await stack.ownerDb('organizations').insert({ slug: `tok-${crypto.randomUUID().slice(0, 8)}`, name: 'Token Test' }).returning(['id', 'slug']);
    const { id: orgId, slug } = org[0] as { id: string; slug: string };
    const user = crypto.randomUUID();

    const member = await tourhub(['token', '--org', slug, '--user', user]);
    expect(member.code).toBe(0);
    expect(member.stderr).toBe(`${user} is now a member of ${slug}\n`);
    const verifier = createTokenVerifier({ secret: TEST_JWT_SECRET, issuer: 'tourhub', audience: 'tourhub-api' });
    expect(await verifier.verify(member.stdout.trim())).toMatchObject({ orgId, userId: user });
    expect((await request(stack.app).get('/api/tours').set('Authorization', `Bearer ${member.stdout.trim()}`)).status).toBe(200);

    const admin = await tourhub(['token', '--org', orgId.toUpperCase(), '--user', user.toUpperCase(), '--role', 'admin']);
    expect(admin.code).toBe(0);
    expect(admin.stderr).toBe(`${user} is now an admin of ${slug}\n`);
    expect(await stack.ownerDb('organization_members').where({ organization_id: orgId }).select('user_id', 'role')).toEqual([{ user_id: user, role: 'admin' }]);
    expect((await request(stack.app).get('/api/integrations').set('Authorization', `Bearer ${admin.stdout.trim()}`)).status).toBe(200);
  }, 60_000);

  it('mints in production only for existing members, with the role they have', async () => {
    const [org] = (await stack.ownerDb('organizations').insert({ slug: `prod-${crypto.randomUUID().slice(0, 8)}`, name: 'Prod' }).returning(['id', 'slug'])) as { id: string; slug: string }[];
    // Production refuses every development default (the test database's password, the test JWT secret,
    // a key of one repeated byte): the operator here connects as a login role of their own, with secrets
    // of their own, as a real one would.
    const login = `operator_${crypto.randomBytes(4).toString('hex')}`;
    const password = crypto.randomBytes(18).toString('base64url');
    await stack.ownerDb.raw(`CREATE ROLE ${login} LOGIN PASSWORD '${password}' IN ROLE ${(await stack.ownerDb.raw('select current_user as u')).rows[0].u}`);
    const url = new URL(process.env[TEST_ENV_KEYS.pgUrl]!);
    url.username = login;
    url.password = password;
    const production = {
      TOURHUB_ENV: 'production',
      DATABASE_URL: url.toString(),
      DATABASE_APP_URL: url.toString(),
      // The suite's app password, which the helper passes, is a development default too.
      DATABASE_APP_PASSWORD: password,
      DATABASE_WORKER_URL: url.toString(),
      JWT_SECRET: crypto.randomBytes(32).toString('base64url'),
      TOURHUB_SECRET_KEYS: `k1:${crypto.randomBytes(32).toString('base64')}`,
    };
    const stranger = await tourhub(['token', '--org', org!.slug, '--user', crypto.randomUUID()], production);
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(/not a member of this organisation; in production members are not created by tokens \(not_a_member\)/);
    expect(stranger.stdout).toBe('');
    const user = crypto.randomUUID();
    await stack.ownerDb('organization_members').insert({ organization_id: org!.id, user_id: user, role: 'member' });
    const promoted = await tourhub(['token', '--org', org!.slug, '--user', user, '--role', 'admin'], production);
    expect(promoted.code).toBe(1);
    expect(promoted.stderr).toMatch(/role_mismatch/);
    const minted = await tourhub(['token', '--org', org!.slug, '--user', user], production);
    expect({ code: minted.code, stderr: minted.stderr }).toEqual({ code: 0, stderr: '' });
  }, 60_000);
});
