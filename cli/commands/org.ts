import { parseArgs } from 'node:util';
import { z } from 'zod';
import { canonicalUuid } from '../../api/ids';
import { ownerDatabaseUrl } from '../../config';
import { createDb, type Db } from '../../db/knex';
import { createOrganization, type CreateOrganizationInput } from '../../services/organizations';
import { loadConfigOrExit } from '../runtime';

export const USAGE = `Usage: tourhub org create --name <name> [--slug <slug>] --admin-user <user uuid> [--admin-email <email>] [--auto-provision] [--json]

Creates an organisation and its first admin (no API can: there is nobody to authorise it yet), and
prints their ids. --admin-user is the admin's user id as your identity provider's tokens name it (sub).
The slug defaults to one made from the name. Running it again with the same name, slug and admin
prints the same ids and changes nothing; a slug taken by another organisation is refused.
--auto-provision makes a user the organisation's tokens name a member on first use (role member, name,
email and phone from the token's claims) instead of refusing them (403 not_a_member); an admin can
change it later with PATCH /api/organization.
Uses DATABASE_URL (owner).`;

const createSchema = z.strictObject({
  name: z.string().trim().min(1, '--name is required').max(200),
  slug: z.string().min(1).max(63).optional(),
  'admin-user': canonicalUuid('--admin-user must be a user id (a UUID)'),
  'admin-email': z.email('--admin-email must be an email address').max(320).optional(),
  'auto-provision': z.boolean().optional(),
  json: z.boolean().optional(),
});

/** Pure: the organisation to create, or what is wrong with the arguments (exit 2). */
export function parseOrgArgs(argv: string[]): { ok: true; help: true } | { ok: true; help?: false; input: CreateOrganizationInput; json: boolean } | { ok: false; error: string } {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return { ok: true, help: true };
  if (command !== 'create') return { ok: false, error: `Unknown subcommand "${command}"` };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: rest,
      options: { name: { type: 'string' }, slug: { type: 'string' }, 'admin-user': { type: 'string' }, 'admin-email': { type: 'string' }, 'auto-provision': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  if (values.help) return { ok: true, help: true };
  if (values['admin-user'] === undefined) return { ok: false, error: '--admin-user is required: the first admin\'s user id (a UUID)' };
  const parsed = createSchema.safeParse(values);
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => i.message).join('; ') };
  const a = parsed.data;
  return {
    ok: true,
    json: a.json ?? false,
    input: {
      name: a.name,
      adminUserId: a['admin-user'],
      ...(a.slug ? { slug: a.slug } : {}),
      ...(a['admin-email'] ? { adminEmail: a['admin-email'] } : {}),
      ...(a['auto-provision'] ? { autoProvisionMembers: true } : {}),
    },
  };
}

/** Creates the organisation and prints the ids: 0 created or already there, 1 refused. */
export async function createOrg(db: Db, input: CreateOrganizationInput, out: { json: boolean; write: (s: string) => void; error: (s: string) => void }): Promise<number> {
  const result = await createOrganization(db, input);
  if (!result.ok) {
    out.error(`tourhub org create: ${result.refusal.message} (${result.refusal.code})\n`);
    return 1;
  }
  const { organization, adminUserId, created } = result.value;
  if (out.json) {
    out.write(`${JSON.stringify({ organization_id: organization.id, slug: organization.slug, name: organization.name, admin_user_id: adminUserId, auto_provision_members: organization.auto_provision_members, created })}\n`);
    return 0;
  }
  out.write(
    [
      created ? `Created organisation "${organization.name}"` : `Organisation "${organization.name}" already exists with this admin; nothing changed`,
      `  organization_id  ${organization.id}`,
      `  slug             ${organization.slug}`,
      `  admin_user_id    ${adminUserId}`,
      `  members from tokens  ${organization.auto_provision_members ? 'yes (--auto-provision)' : 'no'}`,
      '',
    ].join('\n'),
  );
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOrgArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`tourhub org: ${parsed.error}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfigOrExit();
  const db = createDb(ownerDatabaseUrl(config), { poolMax: 1, applicationName: 'tourhub-org' });
  try {
    return await createOrg(db, parsed.input, { json: parsed.json, write: (s) => process.stdout.write(s), error: (s) => process.stderr.write(s) });
  } finally {
    await db.destroy();
  }
}
