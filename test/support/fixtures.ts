import crypto from 'node:crypto';
import type { Db } from '../../db/knex';
import { publishVersion } from '../../db/repositories/tour-versions';

export interface OrgFixture {
  orgId: string;
  slug: string;
  adminId: string;
  memberId: string;
  otherMemberId: string;
  tourId: string;
  tourKey: string;
  stepKeys: string[];
}

/**
 * A fresh organisation with an admin, two members and one active tour of `steps` steps, through the
 * owner connection. Every id is new, so tests never see each other's rows.
 */
export async function createOrg(
  db: Db,
  opts: { steps?: number; unskippable?: number[]; inactive?: boolean } = {},
): Promise<OrgFixture> {
  const id = crypto.randomUUID();
  const slug = `org-${id.slice(0, 8)}`;
  const fixture: OrgFixture = {
    orgId: id,
    slug,
    adminId: crypto.randomUUID(),
    memberId: crypto.randomUUID(),
    otherMemberId: crypto.randomUUID(),
    tourId: crypto.randomUUID(),
    tourKey: 'couple-welcome',
    stepKeys: Array.from({ length: opts.steps ?? 5 }, (_, i) => `step_${i}`),
  };
  await db.transaction(async (trx) => {
    await trx('organizations').insert({ id, slug, name: `Test ${slug}` });
    await trx('organization_members').insert([
      { organization_id: id, user_id: fixture.adminId, role: 'admin' },
      { organization_id: id, user_id: fixture.memberId, role: 'member' },
      { organization_id: id, user_id: fixture.otherMemberId, role: 'member' },
    ]);
    await trx.raw(
      `INSERT INTO tour_definitions (id, organization_id, tour_key, name, target_audience, wedding_phase, is_active)
       VALUES (?, ?, ?, 'Welcome to your wedding dashboard', ARRAY['couples']::audience_enum[], 'engagement', ?)`,
      [fixture.tourId, id, fixture.tourKey, !opts.inactive],
    );
    if (fixture.stepKeys.length > 0) {
      await trx('tour_steps').insert(
        fixture.stepKeys.map((key, i) => ({
          organization_id: id,
          tour_id: fixture.tourId,
          step_order: i,
          step_key: key,
          title: `Step ${i}`,
          skip_enabled: !(opts.unskippable ?? []).includes(i),
        })),
      );
    }
    // Published as version 1, as an admin would; an inactive tour is one unpublished since.
    await publishVersion(trx, fixture.tourId, fixture.adminId);
    if (opts.inactive) await trx('tour_definitions').where({ id: fixture.tourId }).update({ is_active: false });
  });
  return fixture;
}

export async function addTour(db: Db, orgId: string, opts: { steps?: number; key?: string; audience?: string[]; phase?: string } = {}): Promise<string> {
  const tourId = crypto.randomUUID();
  await db.raw(
    `INSERT INTO tour_definitions (id, organization_id, tour_key, name, target_audience, wedding_phase)
     VALUES (?, ?, ?, ?, ?::audience_enum[], ?)`,
    [tourId, orgId, opts.key ?? `tour-${tourId.slice(0, 8)}`, `Tour ${tourId.slice(0, 8)}`, opts.audience ?? ['couples'], opts.phase ?? 'engagement'],
  );
  const steps = opts.steps ?? 3;
  if (steps > 0) {
    await db('tour_steps').insert(
      Array.from({ length: steps }, (_, i) => ({ organization_id: orgId, tour_id: tourId, step_order: i, step_key: `s${i}`, title: `S${i}` })),
    );
  }
  await publishVersion(db, tourId, null);
  return tourId;
}
