import crypto from 'node:crypto';
import type { Db } from '../db/knex';
import { findMember, putMember } from '../db/repositories/members';
import { findOrganization, insertOrganization, type OrganizationRow } from '../db/repositories/organizations';
import type { Role } from '../db/tenant';
import { assertCanonicalUuids, canonicalUuidOf } from '../domain/ids';
import { notFound, ok, refuse, type Result } from './result';

/**
 * Organisations and their members as operators manage them from the CLI, with the owner connection:
 * no API route can create an organisation or its first admin (there is nobody to authorise it yet).
 */

const SLUG = /^[a-z0-9][a-z0-9-]*$/;
const SLUG_MAX = 63;

/** A slug from a name: `Ava & Leo's Weddings` -> `ava-leo-s-weddings`; empty when nothing usable is left. */
export function slugFrom(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, SLUG_MAX)
    .replace(/-+$/, '');
}

export interface CreateOrganizationInput {
  name: string;
  /** Default: derived from the name. */
  slug?: string;
  /** Canonical UUID of the first admin (the identity provider's `sub` for them). */
  adminUserId: string;
  adminEmail?: string;
  /** Make unknown users of the organisation's tokens members on first use (auto_provision_members). */
  autoProvisionMembers?: boolean;
}

export interface CreatedOrganization {
  organization: OrganizationRow;
  adminUserId: string;
  /** False when the same organisation with the same admin already existed: nothing was changed. */
  created: boolean;
}

export type CreateOrganizationRefusal = 'invalid_slug' | 'organization_exists';

/**
 * Creates the organisation and makes its first admin, in one transaction. Idempotent: running it again
 * with the same name, slug and admin answers the existing ids and changes nothing; a slug taken by
 * another organisation (another name, or without this admin) is refused, never merged into.
 */
export async function createOrganization(db: Db, input: CreateOrganizationInput): Promise<Result<CreatedOrganization, CreateOrganizationRefusal>> {
  assertCanonicalUuids('createOrganization', { adminUserId: input.adminUserId });
  const name = input.name.trim();
  const slug = input.slug ?? slugFrom(name);
  if (!SLUG.test(slug) || slug.length > SLUG_MAX) {
    return refuse('invalid_slug', input.slug ? `"${slug}" is not a slug: lower-case letters, digits and dashes, at most ${SLUG_MAX}` : `No slug can be made from "${name}": give one with --slug`, { slug });
  }
  return db.transaction(async (trx) => {
    const inserted = await insertOrganization(trx, { id: crypto.randomUUID(), slug, name, auto_provision_members: input.autoProvisionMembers ?? false });
    if (inserted) {
      await putMember(trx, inserted.id, { userId: input.adminUserId, role: 'admin', ...(input.adminEmail ? { email: input.adminEmail } : {}) });
      return ok({ organization: inserted, adminUserId: input.adminUserId, created: true });
    }
    const existing = await findOrganization(trx, { slug });
    const admin = existing ? await findMember(trx, existing.id, input.adminUserId) : undefined;
    if (existing && existing.name === name && admin?.role === 'admin') {
      // Nothing changes on a re-run, the opt-in included: the output shows the setting in force.
      return ok({ organization: existing, adminUserId: input.adminUserId, created: false });
    }
    return refuse('organization_exists', `The slug "${slug}" is taken by ${existing ? `"${existing.name}"` : 'another organisation'}${admin?.role === 'admin' ? '' : ', which this user is not an admin of'}: choose another --slug`, {
      slug,
      ...(existing ? { organization_id: existing.id, name: existing.name } : {}),
    });
  });
}

/** An organisation by canonical id or by slug (any case of a UUID is read as that id). */
export async function resolveOrganization(db: Db, idOrSlug: string): Promise<Result<OrganizationRow, 'not_found'>> {
  const id = canonicalUuidOf(idOrSlug);
  const found = await findOrganization(db, id ? { id } : { slug: idOrSlug });
  return found ? ok(found) : notFound('Organisation', { organization: idOrSlug });
}

export interface EnsuredMember {
  role: Role;
  /** What was done: nothing, a new member, or a new role for an existing one. */
  change: 'none' | 'created' | 'role_changed';
}

/**
 * Makes `userId` a member of the organisation for a development token: a new member gets `role`
 * (default member); an existing one keeps theirs unless `role` says otherwise. With `create: false`
 * (production), only existing members get tokens, with the role they have.
 */
export async function ensureMember(
  db: Db,
  orgId: string,
  userId: string,
  opts: { role?: Role; create: boolean },
): Promise<Result<EnsuredMember, 'not_a_member' | 'role_mismatch'>> {
  assertCanonicalUuids('ensureMember', { orgId, userId });
  const existing = await findMember(db, orgId, userId);
  if (existing && (!opts.role || opts.role === existing.role)) return ok({ role: existing.role, change: 'none' });
  if (!opts.create) {
    return existing
      ? refuse('role_mismatch', `${userId} is a ${existing.role} of this organisation, not a ${opts.role}; roles change only outside production`)
      : refuse('not_a_member', `${userId} is not a member of this organisation; in production members are not created by tokens`);
  }
  const role = opts.role ?? 'member';
  await putMember(db, orgId, { userId, role });
  return ok({ role, change: existing ? 'role_changed' : 'created' });
}
