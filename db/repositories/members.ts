import type { Knex } from 'knex';
import type { Audience } from '../../domain/targeting';
import type { Role } from '../tenant';

/** A member as admins manage them (organization_members): who they are, their role and their profile. */
export interface MemberProfileRow {
  user_id: string;
  role: Role;
  display_name: string | null;
  email: string | null;
  phone: string | null;
  /** YYYY-MM-DD. */
  wedding_date: string | null;
  time_zone: string | null;
  audience: Audience | null;
  attributes: Record<string, unknown>;
  provisioned_from_token: boolean;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = [
  'user_id', 'role', 'display_name', 'email', 'phone', 'wedding_date', 'time_zone', 'audience', 'attributes', 'provisioned_from_token',
  'created_at', 'updated_at',
];

export interface MemberFields {
  role?: Role;
  display_name?: string | null;
  email?: string | null;
  phone?: string | null;
  wedding_date?: string | null;
  time_zone?: string | null;
  audience?: Audience | null;
  attributes?: Record<string, unknown>;
}

/** `db` is a tenant transaction: admins see every member of their organisation, a member only themselves. */
export async function findMemberProfile(db: Knex, userId: string): Promise<MemberProfileRow | undefined> {
  return db('organization_members').select(COLUMNS).where({ user_id: userId }).first();
}

/** Members by user id, keyset-paginated. */
export async function listMembers(db: Knex, page: { limit: number; after?: string }): Promise<MemberProfileRow[]> {
  const q = db('organization_members').select(COLUMNS).orderBy('user_id').limit(page.limit);
  if (page.after) q.where('user_id', '>', page.after);
  return q;
}

/** Creates the member or changes the fields given; says which. Locks the row so two upserts serialise. */
export async function upsertMember(db: Knex, orgId: string, userId: string, fields: MemberFields): Promise<{ row: MemberProfileRow; created: boolean }> {
  const values = { ...fields, ...(fields.attributes ? { attributes: JSON.stringify(fields.attributes) } : {}) };
  const existing = await db('organization_members').select('user_id').where({ user_id: userId }).forUpdate().first();
  if (existing) {
    const [row] = await db('organization_members').where({ user_id: userId }).update({ ...values, updated_at: db.fn.now() }).returning(COLUMNS);
    return { row, created: false };
  }
  const [row] = await db('organization_members').insert({ organization_id: orgId, user_id: userId, role: 'member', ...values }).returning(COLUMNS);
  return { row, created: true };
}

export async function deleteMember(db: Knex, userId: string): Promise<boolean> {
  return (await db('organization_members').where({ user_id: userId }).delete()) > 0;
}

/** How many admins the organisation has, locking them, so the last one is never removed or demoted by two requests at once. */
export async function countAdmins(db: Knex): Promise<number> {
  const rows = await db('organization_members').select('user_id').where({ role: 'admin' }).forUpdate();
  return rows.length;
}

/**
 * The caller made a member of an organisation that opted in, from their token's claims: role `member`
 * only (the row-level policy refuses anything else, and any organisation that did not opt in). Returns
 * false when the organisation did not opt in; a concurrent first request that won is fine.
 */
export async function provisionMember(db: Knex, orgId: string, userId: string, claims: { display_name?: string; email?: string; phone?: string }): Promise<boolean> {
  const org = await db('organizations').select('auto_provision_members').where({ id: orgId }).first();
  if (!org?.auto_provision_members) return false;
  await db('organization_members')
    .insert({ organization_id: orgId, user_id: userId, role: 'member', provisioned_from_token: true, ...claims })
    .onConflict(['organization_id', 'user_id'])
    .ignore();
  return true;
}

/**
 * The caller's role in the organisation, or undefined for a non-member. Under RLS the caller sees only
 * their own membership row (members_see_themselves), which is all this needs.
 */
export async function findMemberRole(db: Knex, orgId: string, userId: string): Promise<Role | undefined> {
  const row = (await db('organization_members').select('role').where({ organization_id: orgId, user_id: userId }).first()) as { role: Role } | undefined;
  return row?.role;
}

export interface MemberRow {
  user_id: string;
  role: Role;
  email: string | null;
}

export async function findMember(db: Knex, orgId: string, userId: string): Promise<MemberRow | undefined> {
  return db('organization_members').select('user_id', 'role', 'email').where({ organization_id: orgId, user_id: userId }).first() as Promise<MemberRow | undefined>;
}

/** Adds the member, or changes the role of an existing one. */
export async function putMember(db: Knex, orgId: string, member: { userId: string; role: Role; email?: string }): Promise<void> {
  await db('organization_members')
    .insert({ organization_id: orgId, user_id: member.userId, role: member.role, ...(member.email ? { email: member.email } : {}) })
    .onConflict(['organization_id', 'user_id'])
    .merge(['role']);
}

/** How the hub reaches a member (owner connection: any organisation's). */
export async function findMemberContact(db: Knex, orgId: string, userId: string): Promise<{ email: string | null; display_name: string | null; phone: string | null } | undefined> {
  return db('organization_members').select('email', 'display_name', 'phone').where({ organization_id: orgId, user_id: userId }).first();
}
