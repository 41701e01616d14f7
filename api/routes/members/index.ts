import type { RouteGroup } from '../../openapi';
import { getMember } from './get';
import { listMembers } from './list';
import { deleteMember } from './remove';
import { upsertMember } from './upsert';

export const memberRoutes: RouteGroup = {
  prefix: '/api/members',
  access: 'admin',
  bodyParsed: true,
  endpoints: [listMembers, getMember, upsertMember, deleteMember],
};
