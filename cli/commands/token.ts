import { parseArgs } from 'node:util';
import { z } from 'zod';
import { canonicalUuid } from '../../api/ids';
import { signToken } from '../../api/middleware/auth';
import { ownerDatabaseUrl } from '../../config';
import { createDb } from '../../db/knex';
import { ensureMember, resolveOrganization } from '../../services/organizations';
import { loadConfigOrExit, resolveJwtSecret } from '../runtime';

const USAGE = `Usage: tourhub token --org <organisation id or slug> --user <user uuid> [--role admin|member] [--ttl <seconds>]

Prints a signed development token (HS256, JWT_SECRET or the data folder's secret) and nothing else,
so it can be used as TOKEN=$(npx tourhub token ...). The API takes the caller's role from the
organisation's members, not from the token: outside production this makes the user a member first
(with --role, default member, or gives an existing member that --role); in production it mints tokens
only for existing members, with the role they have.`;

const argsSchema = z.strictObject({
  org: z.string().min(1),
  user: canonicalUuid('--user must be a UUID'),
  role: z.enum(['admin', 'member']).optional(),
  ttl: z.coerce.number().int().min(60).max(30 * 24 * 3600).default(12 * 3600),
});

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: { org: { type: 'string' }, user: { type: 'string' }, role: { type: 'string' }, ttl: { type: 'string' } },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    process.stderr.write(`${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n')}\n${USAGE}\n`);
    return 2;
  }
  const args = parsed.data;
  const config = loadConfigOrExit();
  const secret = resolveJwtSecret(config, { create: false });
  if (!secret) {
    process.stderr.write('This deployment verifies tokens from JWT_JWKS_URL; mint tokens with your identity provider.\n');
    return 2;
  }
  const db = createDb(ownerDatabaseUrl(config), { poolMax: 1, applicationName: 'tourhub-token' });
  let orgId: string;
  try {
    const org = await resolveOrganization(db, args.org);
    if (!org.ok) {
      process.stderr.write(`No organisation with id or slug "${args.org}"\n`);
      return 1;
    }
    orgId = org.value.id;
    const member = await ensureMember(db, orgId, args.user, { ...(args.role ? { role: args.role } : {}), create: config.env !== 'production' });
    if (!member.ok) {
      process.stderr.write(`${member.refusal.message} (${member.refusal.code})\n`);
      return 1;
    }
    if (member.value.change !== 'none') {
      process.stderr.write(`${args.user} is now ${member.value.role === 'admin' ? 'an admin' : 'a member'} of ${org.value.slug}\n`);
    }
  } catch (err) {
    throw new Error(`Could not look up the organisation and its members (is "npm start" running?): ${(err as Error).message}`);
  } finally {
    await db.destroy();
  }
  const token = await signToken({ secret, issuer: config.jwt.issuer, audience: config.jwt.audience }, { orgId, userId: args.user }, args.ttl);
  process.stdout.write(`${token}\n`);
  return 0;
}
