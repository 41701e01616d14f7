import { endpoint, refused } from '../../endpoint';
import { MemberEnvelope, MemberParams, presentMember } from './views';

export const getMember = endpoint({
  operationId: 'getMember',
  method: 'get',
  path: '/api/members/{userId}',
  tag: 'Members',
  summary: 'A member',
  access: 'admin',
  params: MemberParams,
  responses: { 200: { description: 'The member', json: MemberEnvelope } },
  errors: ['not_found'],
}).handle(async ({ params, auth }, { people: members }) => {
  const found = await members.get(auth, params.userId);
  if (!found.ok) return refused(found.refusal);
  return { status: 200, body: { member: presentMember(found.value) } };
});
