import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ownerDatabaseUrl } from '../../config';
import { createDb } from '../../db/knex';
import { createSigningSecretService } from '../../services/signing-secrets';
import { loadConfigOrExit, resolveSecretBox } from '../runtime';

export const USAGE = `Usage: tourhub webhook-secret --org <organisation id or slug> [--grace <hours>]

Makes a new signing secret for the organisation's tour events (x-wedsync-signature on
POST /api/webhooks/tour-events) and prints it once. Secrets it replaces keep working for --grace hours
(default WEBHOOK_SECRET_GRACE), so the sender can switch without refused events; --grace 0 ends them now.
The same as POST /api/webhooks/signing-secrets for an admin. Uses DATABASE_URL (owner).`;

export type WebhookSecretArgs = { kind: 'help' } | { kind: 'rotate'; org: string; graceHours?: number };

/** Pure: what to do, or what is wrong with the arguments (exit 2). */
export function parseWebhookSecretArgs(argv: string[]): { ok: true; args: WebhookSecretArgs } | { ok: false; error: string } {
  let values: { org?: string; grace?: string; help?: boolean };
  try {
    values = parseArgs({ args: argv, options: { org: { type: 'string' }, grace: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  if (values.help) return { ok: true, args: { kind: 'help' } };
  if (!values.org) return { ok: false, error: 'Give --org: the organisation id or slug' };
  if (values.grace === undefined) return { ok: true, args: { kind: 'rotate', org: values.org } };
  const grace = z.coerce.number().int().min(0).max(720).safeParse(values.grace);
  if (!/^\d+$/.test(values.grace) || !grace.success) return { ok: false, error: `--grace must be whole hours from 0 to 720, got "${values.grace}"` };
  return { ok: true, args: { kind: 'rotate', org: values.org, graceHours: grace.data } };
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseWebhookSecretArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`${parsed.error}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed.args.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { org, graceHours } = parsed.args;
  const config = loadConfigOrExit();
  const box = resolveSecretBox(config, { create: false });
  const db = createDb(ownerDatabaseUrl(config), { poolMax: 2, applicationName: 'tourhub-webhook-secret' });
  try {
    const found = await db('organizations')
      .select('id', 'slug')
      .where(z.uuid().safeParse(org).success ? { id: org.toLowerCase() } : { slug: org })
      .first();
    if (!found) {
      process.stderr.write(`No organisation "${org}"\n`);
      return 1;
    }
    const service = createSigningSecretService({ db, box, defaultGraceMs: config.webhooks.secretGraceMs });
    const made = await service.rotateAsOwner(found.id, graceHours !== undefined ? graceHours * 3600_000 : undefined);
    process.stderr.write(`New signing secret ${made.secret.id} for ${found.slug}; sign tour events with it (shown once):\n`);
    process.stdout.write(`${made.value}\n`);
    return 0;
  } finally {
    await db.destroy();
  }
}
