import knex, { Knex } from 'knex';
import pg from 'pg';

// Return BIGINT counts and NUMERICs as numbers: every value we store in them is far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
// A DATE is a calendar day (a wedding day, the analytics aggregates' UTC day), not an instant: as a JS
// Date it would shift by the process's time zone. Keep Postgres's YYYY-MM-DD text.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export type Db = Knex;

export function createDb(url: string, opts: { poolMax?: number; applicationName?: string } = {}): Db {
  return knex({
    client: 'pg',
    connection: { connectionString: url, application_name: opts.applicationName ?? 'tourhub' },
    pool: { min: 0, max: opts.poolMax ?? 10 },
    // Fail fast rather than hang a request when Postgres is gone.
    acquireConnectionTimeout: 10_000,
  });
}

/** The cheapest round trip: readiness checks call it to learn whether Postgres answers. */
export async function ping(db: Db): Promise<void> {
  await db.raw('select 1');
}
