import { ownerDatabaseUrl } from '../../config';
import { createDb } from '../../db/knex';
import { reencryptAll } from '../../db/repositories/integrations';
import { loadConfigOrExit, resolveSecretBox } from '../runtime';

const USAGE = `Usage: tourhub rotate-key

Re-encrypts every integration's credentials with the active key. To rotate: add a new key to
TOURHUB_SECRET_KEYS (kid:base64 of 32 random bytes, e.g. k2:$(openssl rand -base64 32)), set
TOURHUB_ACTIVE_SECRET_KEY=k2 for every process, run this. Safe to repeat: rows already sealed with the
active key are skipped. The same keys encrypt Temporal payloads, and history is not re-encrypted: remove
the old key only once no retained history or open tour run needs it (docs/operations.md, "Keys").
(In development the keyring is .tourhub/secret-keys.)`;

export async function run(argv: string[]): Promise<number> {
  if (argv.length > 0) {
    process.stdout.write(`${USAGE}\n`);
    return argv.includes('--help') ? 0 : 2;
  }
  const config = loadConfigOrExit();
  const box = resolveSecretBox(config, { create: false });
  const db = createDb(ownerDatabaseUrl(config), { poolMax: 2, applicationName: 'tourhub-rotate-key' });
  try {
    const { reencrypted, total, failed } = await reencryptAll(db, box);
    process.stdout.write(`${reencrypted} of ${total} integrations re-encrypted with key "${box.activeKeyId}"\n`);
    for (const f of failed) process.stderr.write(`integration ${f.id}: ${f.reason}\n`);
    if (failed.length > 0) {
      process.stderr.write(`${failed.length} integrations could not be decrypted with this keyring: keep their key until they are fixed\n`);
      return 1;
    }
    return 0;
  } finally {
    await db.destroy();
  }
}
