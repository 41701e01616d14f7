import type { Knex } from 'knex';
import type { HubPerson } from '../../domain/hub';
import { findMemberContact } from './members';

export interface HubContext {
  timeZone: string;
  /**
   * Who the events are about. `email` is empty when the member has none (or there is no member row):
   * routes that need it are recorded as skipped, not sent.
   */
  person: HubPerson;
}

/** The organisation's zone: due dates and bookings fall in it unless an integration sets its own. */
export async function findOrgTimeZone(db: Knex, orgId: string): Promise<string> {
  const org = await db('organizations').select('time_zone').where({ id: orgId }).first();
  return org?.time_zone ?? 'UTC';
}

/** Who a tour event is about, and the organisation's time zone for due dates. The worker's connection (any organisation). */
export async function loadHubContext(db: Knex, orgId: string, userId: string): Promise<HubContext> {
  const [timeZone, member] = await Promise.all([
    findOrgTimeZone(db, orgId),
    findMemberContact(db, orgId, userId),
  ]);
  // Display names are free text: the first word is the best guess at a first name, the rest the last.
  const [first, ...rest] = String(member?.display_name ?? '').trim().split(/\s+/).filter(Boolean);
  return {
    timeZone,
    person: {
      email: member?.email ?? '',
      externalId: userId,
      ...(first ? { firstName: first } : {}),
      ...(rest.length ? { lastName: rest.join(' ') } : {}),
      ...(member?.phone ? { phone: member.phone } : {}),
    },
  };
}

export interface OrganizationRow {
  id: string;
  slug: string;
  name: string;
  auto_provision_members: boolean;
}

/** By id (canonical UUID) or slug. Owner connection: the CLI's operators see every organisation. */
export async function findOrganization(db: Knex, by: { id: string } | { slug: string }): Promise<OrganizationRow | undefined> {
  return db('organizations').select('id', 'slug', 'name', 'auto_provision_members').where(by).first() as Promise<OrganizationRow | undefined>;
}

/** Inserts the organisation; undefined when its slug (or id) is taken. */
export async function insertOrganization(db: Knex, org: OrganizationRow): Promise<OrganizationRow | undefined> {
  const [row] = (await db('organizations').insert(org).onConflict().ignore().returning(['id', 'slug', 'name', 'auto_provision_members'])) as OrganizationRow[];
  return row;
}

export interface OrganizationSettings {
  id: string;
  slug: string;
  name: string;
  time_zone: string;
  auto_provision_members: boolean;
}

const ORG_COLUMNS = ['id', 'slug', 'name', 'time_zone', 'auto_provision_members'];

export async function findOrganizationSettings(db: Knex, orgId: string): Promise<OrganizationSettings | undefined> {
  return db('organizations').select(ORG_COLUMNS).where({ id: orgId }).first();
}

export async function updateOrganizationSettings(db: Knex, orgId: string, fields: { auto_provision_members?: boolean; time_zone?: string }): Promise<OrganizationSettings | undefined> {
  const [row] = await db('organizations').where({ id: orgId }).update({ ...fields, updated_at: db.fn.now() }).returning(ORG_COLUMNS);
  return row;
}
