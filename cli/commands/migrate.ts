import { ownerDatabaseUrl } from '../../config';
import { createDb } from '../../db/knex';
import { migrateRollbackAll, migrationStatus } from '../../db/migrate';
import { createLogger, loadConfigOrExit } from '../runtime';
import { migrate } from '../services';

const USAGE = `Usage: tourhub migrate [--status | --down-all]
  (no flag)    apply pending migrations and set the API role's password
  --status     list applied and pending migrations
  --down-all   roll every migration back (destroys all data)`;

export async function run(argv: string[]): Promise<number> {
  const config = loadConfigOrExit();
  const logger = createLogger(config, 'tourhub-migrate');
  if (argv.length === 0) {
    await migrate(config, logger);
    return 0;
  }
  if (argv.length !== 1 || !['--status', '--down-all'].includes(argv[0]!)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const db = createDb(ownerDatabaseUrl(config), { poolMax: 1 });
  try {
    if (argv[0] === '--status') {
      const status = await migrationStatus(db);
      for (const name of status.completed) process.stdout.write(`applied  ${name}\n`);
      for (const name of status.pending) process.stdout.write(`pending  ${name}\n`);
    } else {
      const names = await migrateRollbackAll(db);
      logger.info({ rolledBack: names.length }, 'all migrations rolled back');
    }
    return 0;
  } finally {
    await db.destroy();
  }
}
