import { endpoint, refused } from '../../endpoint';
import { fieldsOf, MemberEnvelope, MemberParams, presentMember, UpsertMemberBody } from './views';

export const upsertMember = endpoint({
  operationId: 'upsertMember',
  method: 'put',
  path: '/api/members/{userId}',
  tag: 'Members',
  summary: 'Add a member, or change one',
  description:
    "By the user id their tokens carry (`sub`). Fields sent replace the stored ones (null clears one); a new member is a `member` unless `role` says otherwise. The phone is validated and stored in E.164. The hub's providers reach the person by this email and phone; targeting reads the wedding date, time zone, audience and attributes.",
  access: 'admin',
  params: MemberParams,
  body: UpsertMemberBody,
  responses: { 200: { description: 'Changed', json: MemberEnvelope }, 201: { description: 'Added', json: MemberEnvelope } },
  errors: ['invalid_phone', 'invalid_time_zone', 'last_admin'],
}).handle(async ({ params, body, auth }, { people: members }) => {
  const saved = await members.upsert(auth, params.userId, fieldsOf(body));
  if (!saved.ok) return refused(saved.refusal);
  return { status: saved.value.created ? 201 : 200, body: { member: presentMember(saved.value.row) } };
});
