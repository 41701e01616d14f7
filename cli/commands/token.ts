import { parseArgs } from 'node:util';
import { z } from 'zod';
import { signToken } from '../../api/middleware/auth';
import { ownerDatabaseUrl } from '../../config';
import { createDb } from '../../db/knex';
import { loadConfigOrExit, resolveJwtSecret } from '../runtime';

const USAGE = `Usage: tourhub token --org <organisation id or slug> --user <user uuid> [--role admin|member] [--ttl <seconds>]

Prints a signed development token (HS256, JWT_SECRET or the data folder's secret) and nothing else,
so it can be used as TOKEN=$(npx tourhub token ...). A slug is looked up in Postgres.`;

const argsSchema = z.strictObject({
  org: z.string().min(1),
  user: z.uuid({ message: '--user must be a UUID' }),
  role: z.enum(['admin', 'member']).default('member'),
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
  const config = loadConfigOrExit();
  const secret = resolveJwtSecret(config, { create: false });
  if (!secret) {
    process.stderr.write('This deployment verifies tokens from JWT_JWKS_URL; mint tokens with your identity provider.\n');
    return 2;
  }
  const orgId = await resolveOrg(config, parsed.data.org);
  if (!orgId) {
    process.stderr.write(`No organisation with id or slug "${parsed.data.org}"\n`);
    return 1;
  }
  const token = await signToken(
    { secret, issuer: config.jwt.issuer, audience: config.jwt.audience },
    { orgId, userId: parsed.data.user, role: parsed.data.role },
    parsed.data.ttl,
  );
  process.stdout.write(`${token}\n`);
  return 0;
}

async function resolveOrg(config: ReturnType<typeof loadConfigOrExit>, idOrSlug: string): Promise<string | undefined> {
  if (z.uuid().safeParse(idOrSlug).success) return idOrSlug;
  const db = createDb(ownerDatabaseUrl(config), { poolMax: 1 });
  try {
    const row = await db('organizations').select('id').where({ slug: idOrSlug }).first();
    return row?.id;
  } catch (err) {
    throw new Error(`Could not look up "${idOrSlug}" (is "npm start" running?): ${(err as Error).message}`);
  } finally {
    await db.destroy();
  }
}
