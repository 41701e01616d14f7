import { endpoint, refused } from '../../endpoint';
import { MemberParams } from './views';

export const deleteMember = endpoint({
  operationId: 'deleteMember',
  method: 'delete',
  path: '/api/members/{userId}',
  tag: 'Members',
  summary: 'Remove a member',
  description: 'Their tokens stop working within MEMBERSHIP_CACHE_TTL (or at once, if the organisation creates members from tokens: they come back as a new member). The last admin cannot be removed.',
  access: 'admin',
  params: MemberParams,
  responses: { 204: { description: 'Removed' } },
  errors: ['not_found', 'last_admin'],
}).handle(async ({ params, auth }, { people: members }) => {
  const removed = await members.remove(auth, params.userId);
  if (!removed.ok) return refused(removed.refusal);
  return { status: 204 };
});
