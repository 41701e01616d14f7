import { z } from 'zod';
import type { MemberFields, MemberProfileRow } from '../../../db/repositories/members';
import { named } from '../../openapi';
import { canonicalUuid, iso, jsonObject, timestamp } from '../shared';
import { AUDIENCES } from '../tours/views';

export const MemberParams = z.strictObject({ userId: canonicalUuid() });

export const MemberView = named(
  'Member',
  z.strictObject({
    user_id: canonicalUuid(),
    role: z.enum(['admin', 'member']),
    name: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable().describe('E.164'),
    wedding_date: z.iso.date().nullable(),
    time_zone: z.string().nullable(),
    audience: z.enum(AUDIENCES).nullable(),
    attributes: jsonObject,
    provisioned_from_token: z.boolean().describe("Created from the token's claims on first use (auto_provision_members)"),
    created_at: timestamp,
    updated_at: timestamp,
  }),
);

export const MemberEnvelope = z.strictObject({ member: MemberView });

export const UpsertMemberBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).nullable().optional(),
    email: z.email().max(320).nullable().optional().describe('What every provider but SMS matches the person by'),
    phone: z.string().trim().min(3).max(64).nullable().optional().describe('Any common format with its country code (+44 20 7946 0958); stored as E.164'),
    role: z.enum(['admin', 'member']).optional().describe('Default member; the last admin cannot be demoted'),
    wedding_date: z.iso.date().nullable().optional().describe('YYYY-MM-DD: gives the wedding phase tours are targeted by'),
    time_zone: z.string().min(1).max(64).nullable().optional().describe('IANA zone (Europe/Lisbon): the day the wedding phase is counted from'),
    audience: z.enum(AUDIENCES).nullable().optional().describe('Who the person is to tours: a couple, or a kind of supplier'),
    attributes: jsonObject
      .refine((v) => JSON.stringify(v).length <= 4096, { message: 'at most 4 kB' })
      .optional()
      .describe("Anything else targeting rules may read (replaces the stored attributes)"),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one field' });

export function fieldsOf(body: z.output<typeof UpsertMemberBody>): MemberFields {
  const { name, ...rest } = body;
  return {
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    ...(name !== undefined ? { display_name: name } : {}),
  } as MemberFields;
}

export function presentMember(m: MemberProfileRow): z.input<typeof MemberView> {
  return {
    user_id: m.user_id,
    role: m.role,
    name: m.display_name,
    email: m.email,
    phone: m.phone,
    wedding_date: m.wedding_date,
    time_zone: m.time_zone,
    audience: m.audience,
    attributes: m.attributes,
    provisioned_from_token: m.provisioned_from_token,
    created_at: iso(m.created_at),
    updated_at: iso(m.updated_at),
  };
}
