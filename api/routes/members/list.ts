import { z } from 'zod';
import { endpoint } from '../../endpoint';
import { canonicalUuid, limitQuery } from '../shared';
import { MemberView, presentMember } from './views';

export const listMembers = endpoint({
  operationId: 'listMembers',
  method: 'get',
  path: '/api/members',
  tag: 'Members',
  summary: "The organisation's members, by user id",
  access: 'admin',
  query: z.strictObject({ limit: limitQuery(500, 100).describe('1 to 500, default 100'), after: canonicalUuid().optional().describe('The last user_id of the previous page') }),
  responses: { 200: { description: 'One page', json: z.strictObject({ members: z.array(MemberView), next_after: canonicalUuid().nullable() }) } },
  errors: [],
}).handle(async ({ query, auth }, { people: members }) => {
  const rows = await members.list(auth, { limit: query.limit + 1, ...(query.after ? { after: query.after } : {}) });
  const page = rows.slice(0, query.limit);
  return { status: 200, body: { members: page.map(presentMember), next_after: rows.length > query.limit ? page.at(-1)!.user_id : null } };
});
