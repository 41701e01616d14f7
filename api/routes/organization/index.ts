import { z } from 'zod';
import type { OrganizationSettings } from '../../../db/repositories/organizations';
import { endpoint, refused } from '../../endpoint';
import { named } from '../../openapi';
import type { RouteGroup } from '../../openapi';
import { canonicalUuid } from '../shared';

const OrganizationView = named(
  'Organization',
  z.strictObject({
    id: canonicalUuid(),
    slug: z.string(),
    name: z.string(),
    time_zone: z.string(),
    auto_provision_members: z.boolean().describe("A token of a user who is not yet a member makes them a `member` from the token's claims (name, email, phone_number); off: 403 not_a_member"),
  }),
);
const Envelope = z.strictObject({ organization: OrganizationView });
const present = (o: OrganizationSettings): z.input<typeof OrganizationView> => ({ ...o });

export const getOrganization = endpoint({
  operationId: 'getOrganization',
  method: 'get',
  path: '/api/organization',
  tag: 'Members',
  summary: "The caller's organisation and its settings",
  access: 'admin',
  responses: { 200: { description: 'The organisation', json: Envelope } },
  errors: ['not_found'],
}).handle(async ({ auth }, { people: members }) => {
  const found = await members.settings(auth);
  if (!found.ok) return refused(found.refusal);
  return { status: 200, body: { organization: present(found.value) } };
});

export const updateOrganization = endpoint({
  operationId: 'updateOrganization',
  method: 'patch',
  path: '/api/organization',
  tag: 'Members',
  summary: "Change the organisation's settings",
  description: 'Opt in to (or out of) creating members from their tokens on first use, and set the time zone due dates fall in.',
  access: 'admin',
  body: z
    .strictObject({ auto_provision_members: z.boolean().optional(), time_zone: z.string().min(1).max(64).optional() })
    .refine((b) => Object.keys(b).length > 0, { message: 'send at least one setting' }),
  responses: { 200: { description: 'The organisation as changed', json: Envelope } },
  errors: ['not_found', 'invalid_time_zone'],
}).handle(async ({ body, auth }, { people: members }) => {
  const updated = await members.updateSettings(auth, body);
  if (!updated.ok) return refused(updated.refusal);
  return { status: 200, body: { organization: present(updated.value) } };
});

export const organizationRoutes: RouteGroup = {
  prefix: '/api/organization',
  access: 'admin',
  bodyParsed: true,
  endpoints: [getOrganization, updateOrganization],
};
