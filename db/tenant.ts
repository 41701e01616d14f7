import type { Knex } from 'knex';

export type Role = 'admin' | 'member';

export interface Tenant {
  orgId: string;
  userId: string;
  role: Role;
}

/**
 * Runs `fn` in a transaction whose Postgres settings carry the caller's organisation, user and role.
 * Every RLS policy reads these through tourhub_org_id(), tourhub_user_id() and tourhub_is_admin();
 * `set_config(..., true)` scopes them to this transaction so a pooled connection never leaks them.
 */
export async function withTenant<T>(db: Knex, tenant: Tenant, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return db.transaction(async (trx) => {
    await trx.raw(
      `select set_config('app.org_id', ?, true), set_config('app.user_id', ?, true), set_config('app.role', ?, true)`,
      [tenant.orgId, tenant.userId, tenant.role],
    );
    return fn(trx);
  });
}
