import { ownerDatabaseUrl } from '../../config';
import { createDb } from '../../db/knex';
import { seedDemo } from '../../db/seeds/demo';
import { loadConfigOrExit } from '../runtime';

/** `tourhub seed`: (re)creates the demo organisation and its two tours; never touches progress. */
export async function run(): Promise<number> {
  const config = loadConfigOrExit();
  const db = createDb(ownerDatabaseUrl(config), { poolMax: 1 });
  try {
    const demo = await seedDemo(db);
    process.stdout.write(`${JSON.stringify(demo, null, 2)}\n`);
    return 0;
  } finally {
    await db.destroy();
  }
}
