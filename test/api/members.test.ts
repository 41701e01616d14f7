import crypto from 'node:crypto';
import { SignJWT } from 'jose';
import request from 'supertest';
import { as, expectEnvelope } from '../support/authoring';
import { TEST_JWT_SECRET } from '../support/constants';
import { createOrg } from '../support/fixtures';
import { insertTestIntegration } from '../support/hub-rows';
import { startStack, testSecretBox, type Stack } from '../support/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack.close();
});

/** A token as an identity provider would issue it, with standard claims beside `sub` and `org`. */
function idpToken(orgId: string, userId: string, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT({ org: orgId, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuer(stack.config.jwt.issuer)
    .setAudience(stack.config.jwt.audience)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('members', () => {
  it('upserts a member by user id, normalising the phone, and lists, reads and removes them', async () => {
    const org = await createOrg(stack.ownerDb);
    const admin = as(stack, org);
    const userId = crypto.randomUUID();
    const created = await admin.put(`/api/members/${userId.toUpperCase()}`, {
      name: 'Ava Reed',
      email: 'ava@example.com',
      phone: '+1 (415) 555-0123',
      wedding_date: '2027-06-12',
      time_zone: 'America/New_York',
      audience: 'couples',
      attributes: { guest_count: 120 },
    });
    expect(created.status).toBe(201);
    expect(created.body.member).toMatchObject({ user_id: userId, role: 'member', name: 'Ava Reed', phone: '+14155550123', wedding_date: '2027-06-12', provisioned_from_token: false });
    const changed = await admin.put(`/api/members/${userId}`, { phone: null, name: 'Ava Reed-Lopez' });
    expect(changed.status).toBe(200);
    expect(changed.body.member).toMatchObject({ phone: null, name: 'Ava Reed-Lopez', email: 'ava@example.com' });
    expect((await admin.get(`/api/members/${userId}`)).body.member.name).toBe('Ava Reed-Lopez');
    const listed = await admin.get('/api/members?limit=2');
    expect(listed.body.members).toHaveLength(2);
    expect(listed.body.next_after).toEqual(expect.any(String));
    expect((await admin.delete(`/api/members/${userId}`)).status).toBe(204);
    expectEnvelope(await admin.get(`/api/members/${userId}`), 404, 'not_found');
  });

  it('refuses bad details and never leaves the organisation without an admin, changing nothing', async () => {
    const org = await createOrg(stack.ownerDb);
    const admin = as(stack, org);
    const before = await stack.ownerDb('organization_members').where({ organization_id: org.orgId }).orderBy('user_id');
    expectEnvelope(await admin.put(`/api/members/${org.memberId}`, { phone: 'call me maybe' }), 422, 'invalid_phone');
    expectEnvelope(await admin.put(`/api/members/${org.memberId}`, { time_zone: 'Mars/Olympus' }), 422, 'invalid_time_zone');
    expectEnvelope(await admin.put(`/api/members/${org.memberId}`, { email: 'nope' }), 400, 'validation_error');
    expectEnvelope(await admin.put(`/api/members/${org.memberId}`, { wedding_date: '2027-02-30' }), 400, 'validation_error');
    expectEnvelope(await admin.put(`/api/members/${org.adminId}`, { role: 'member' }), 409, 'last_admin');
    expectEnvelope(await admin.delete(`/api/members/${org.adminId}`), 409, 'last_admin');
    expectEnvelope(await as(stack, org, org.memberId).put(`/api/members/${org.memberId}`, { role: 'admin' }), 403, 'admin_required');
    const other = await createOrg(stack.ownerDb);
    expectEnvelope(await as(stack, other).get(`/api/members/${org.memberId}`), 404, 'not_found');
    expect(await stack.ownerDb('organization_members').where({ organization_id: org.orgId }).orderBy('user_id')).toEqual(before);
  });

  it('turns away an unknown user unless the organisation opted in; then makes them a member from their token\'s claims, never an admin', async () => {
    const org = await createOrg(stack.ownerDb);
    const newcomer = crypto.randomUUID();
    const token = await idpToken(org.orgId, newcomer, { name: 'Leo Park', email: 'leo@example.com', phone_number: '+44 20 7946 0958', role: 'admin' });
    expectEnvelope(await request(stack.app).get('/api/tours').set('Authorization', `Bearer ${token}`), 403, 'not_a_member');
    expect(await stack.ownerDb('organization_members').where({ organization_id: org.orgId, user_id: newcomer })).toEqual([]);

    const opted = await as(stack, org).patch('/api/organization', { auto_provision_members: true });
    expect(opted.body.organization).toMatchObject({ id: org.orgId, auto_provision_members: true });
    expect((await request(stack.app).get('/api/tours').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const row = await stack.ownerDb('organization_members').where({ organization_id: org.orgId, user_id: newcomer }).first();
    expect(row).toMatchObject({ role: 'member', display_name: 'Leo Park', email: 'leo@example.com', phone: '+442079460958', provisioned_from_token: true });
    expectEnvelope(await request(stack.app).get('/api/integrations').set('Authorization', `Bearer ${token}`), 403, 'admin_required');

    // An unverified email is not taken; a token without claims still gets a member, with nothing to reach them by.
    const unverified = crypto.randomUUID();
    await request(stack.app).get('/api/tours').set('Authorization', `Bearer ${await idpToken(org.orgId, unverified, { email: 'x@example.com', email_verified: false })}`).expect(200);
    expect(await stack.ownerDb('organization_members').where({ user_id: unverified }).first('email')).toEqual({ email: null });

    // The database holds the line too: a member cannot provision someone else, or an admin.
    await expect(
      stack.appDb.transaction(async (trx) => {
        await trx.raw(`select set_config('app.org_id', ?, true), set_config('app.user_id', ?, true), set_config('app.role', 'member', true)`, [org.orgId, newcomer]);
        await trx('organization_members').insert({ organization_id: org.orgId, user_id: crypto.randomUUID(), role: 'member', provisioned_from_token: true });
      }),
    ).rejects.toThrow(/row-level security/);
  });

  it('records a route skipped for want of an email or phone in the deliveries list, with the reason', async () => {
    const org = await createOrg(stack.ownerDb);
    const box = testSecretBox();
    // Providers nobody polls for: nothing is sent anywhere, and the planning is what this test reads.
    const crm = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'test-crm' });
    const sms = await insertTestIntegration(stack.ownerDb, box, { orgId: org.orgId, provider: 'test-sms', category: 'sms' });
    await stack.ownerDb('organization_integrations').where({ id: sms }).update({ settings: JSON.stringify({ provider: {}, field_mapping: {}, enabled_events: [], routes: { sms_welcome_enabled: true } }) });
    const member = as(stack, org, org.memberId);
    const started = await member.post(`/api/tours/${org.tourId}/start`, {});
    await member.put(`/api/tours/progress/${started.body.progress_id}`, { action: 'complete_tour' }).then((r) => expect(r.status).toBe(200));

    const admin = as(stack, org);
    const skipped = await until(
      async () => (await admin.get('/api/integrations/deliveries?status=skipped')).body.deliveries as { integration_id: string; event_type: string; action: string; skip_reason: string }[],
      (d) => d.length >= 4,
    );
    expect(skipped.filter((d) => d.integration_id === crm).map((d) => `${d.event_type}:${d.action}`)).toEqual(
      expect.arrayContaining(['tour_completed:crm.createTask', 'tour_completed:crm.logActivity', 'tour_started:crm.logActivity']),
    );
    expect(skipped.find((d) => d.integration_id === crm)!.skip_reason).toMatch(/no email address/);
    expect(skipped.find((d) => d.integration_id === sms)).toMatchObject({ action: 'sms.sendMessage', skip_reason: expect.stringMatching(/no phone number/) });
    expect(await stack.ownerDb('integration_deliveries').where({ integration_id: crm }).whereNot({ status: 'skipped' })).toEqual([]);
    const replay = await admin.post(`/api/integrations/deliveries/${(await stack.ownerDb('integration_deliveries').where({ integration_id: crm }).first()).id}/replay`);
    expectEnvelope(replay, 409, 'delivery_skipped');
  });
});
