import { z } from 'zod';
import { endpoint, refused } from '../../endpoint';
import { iso, jsonObject, timestamp, canonicalUuid } from '../shared';
import { SyncValueSchema } from '../integrations/conflicts/views';
import { AUDIENCES, presentProgress, ProgressView } from '../tours/views';
import { PersonParams } from './views';

const count = z.number().int().min(0);

export const UserDataExportView = z.strictObject({
  exported_at: timestamp,
  organization_id: canonicalUuid(),
  user_id: canonicalUuid(),
  member: z
    .strictObject({
      role: z.enum(['admin', 'member']),
      email: z.string().nullable(),
      display_name: z.string().nullable(),
      phone: z.string().nullable(),
      wedding_date: z.iso.date().nullable(),
      time_zone: z.string().nullable(),
      audience: z.enum(AUDIENCES).nullable(),
      attributes: jsonObject.describe('What targeting rules read about them (PUT /api/members)'),
      provisioned_from_token: z.boolean(),
      created_at: timestamp,
      updated_at: timestamp,
    })
    .nullable()
    .describe("Their membership of the organisation; null when only tour data is left"),
  progress: z.array(ProgressView),
  feedback: z.array(z.strictObject({ tour_id: canonicalUuid(), progress_id: canonicalUuid(), rating: z.number().int().nullable(), feedback: z.string().nullable(), was_helpful: z.boolean().nullable() })),
  events: z.array(
    z.strictObject({
      id: canonicalUuid(),
      tour_id: canonicalUuid(),
      progress_id: canonicalUuid().nullable(),
      event_type: z.string(),
      step_index: z.number().int().nullable(),
      step_key: z.string().nullable(),
      event_data: jsonObject,
      timestamp,
      page_url: z.string().nullable(),
      referrer: z.string().nullable(),
      session_id: canonicalUuid().nullable(),
      load_time_ms: z.number().int().nullable(),
      interaction_time_ms: z.number().int().nullable(),
      user_agent: z.string().nullable(),
    }),
  ),
  pseudonymised_daily_activity: z
    .array(
      z.strictObject({
        tour_id: canonicalUuid(),
        day: z.string(),
        event_type: z.string(),
        step_index: z.number().int().nullable(),
        step_key: z.string().nullable(),
        event_count: count,
        interaction_ms_sum: count,
        interaction_count: count,
      }),
    )
    .describe('What is kept of their events older than the retention period, under their pseudonym'),
  ab_assignments: z.array(
    z.strictObject({
      ab_test_id: canonicalUuid(),
      test_name: z.string(),
      tour_id: canonicalUuid(),
      variant: z.enum(['a', 'b']),
      assigned_at: timestamp,
      started_at: timestamp.nullable().describe('Their first start in the test, once retention has deleted the event that recorded it'),
      completed_at: timestamp.nullable().describe('Their first completion in the test, kept the same way'),
    }),
  ),
  deliveries: z
    .array(
      z.strictObject({
        id: canonicalUuid(),
        integration_id: canonicalUuid(),
        provider: z.string(),
        event_type: z.string(),
        action: z.string(),
        status: z.string(),
        attempts: count,
        request: jsonObject.describe('What was asked: the call and the names of the fields sent'),
        provider_reference: z.string().nullable(),
        created_at: timestamp,
        delivered_at: timestamp.nullable(),
      }),
    )
    .describe("What the hub sent (or meant to send) to the organisation's tools about them"),
  sync_records: z
    .array(
      z.strictObject({
        integration_id: canonicalUuid(),
        provider: z.string(),
        record_key: z.string().describe('Their email, or the id of an event booked for their tours'),
        remote_id: z.string().nullable(),
        agreed: jsonObject.describe('The values both sides last agreed on'),
        local: jsonObject.describe("Values of theirs taken from the provider and kept only here (an event's time)"),
        synced_at: timestamp,
      }),
    )
    .describe("Two-way sync's copies of their record at each provider"),
  sync_conflicts: z
    .array(
      z.strictObject({
        id: canonicalUuid(),
        integration_id: canonicalUuid(),
        provider: z.string(),
        record_key: z.string(),
        field: z.string(),
        ours: SyncValueSchema,
        theirs: SyncValueSchema,
        status: z.enum(['open', 'resolved']),
        resolution: z.enum(['ours', 'theirs', 'value']).nullable(),
        resolved_value: SyncValueSchema.nullable(),
        detected_at: timestamp,
        resolved_at: timestamp.nullable(),
      }),
    )
    .describe('Two-way sync conflicts about them, with both values'),
});

export const exportUserData = endpoint({
  operationId: 'exportUserData',
  method: 'get',
  path: '/api/tours/users/{userId}/data',
  tag: 'Privacy',
  summary: "Everything stored about one person's tours, as JSON (GDPR access and portability)",
  description: 'Membership, progress, feedback, raw events, the pseudonymous daily activity kept after the retention period, A/B assignments, deliveries and two-way sync\'s copies of their record (agreed values, conflicts), of the caller\'s organisation only.',
  access: 'admin',
  params: PersonParams,
  responses: { 200: { description: 'The export', json: UserDataExportView } },
  errors: ['not_found'],
}).handle(async ({ params, auth }, { userData }) => {
  const userId = params.userId.toLowerCase();
  const found = await userData.export(auth, userId);
  if (!found.ok) return refused(found.refusal);
  const d = found.value;
  return {
    status: 200,
    body: {
      exported_at: new Date().toISOString(),
      organization_id: auth.orgId,
      user_id: userId,
      member: d.member
        ? {
            role: d.member.role,
            email: d.member.email,
            display_name: d.member.display_name,
            phone: d.member.phone,
            wedding_date: d.member.wedding_date,
            time_zone: d.member.time_zone,
            audience: d.member.audience,
            attributes: d.member.attributes,
            provisioned_from_token: d.member.provisioned_from_token,
            created_at: iso(d.member.created_at),
            updated_at: iso(d.member.updated_at),
          }
        : null,
      progress: d.progress.map(presentProgress),
      feedback: d.feedback,
      events: d.events.map((e) => ({ ...e, timestamp: iso(e.timestamp) })),
      pseudonymised_daily_activity: d.aggregates.map((a) => ({
        ...a,
        day: String(a.day),
        step_index: a.step_index < 0 ? null : a.step_index,
        step_key: a.step_key === '' ? null : a.step_key,
      })),
      ab_assignments: d.assignments.map((a) => ({
        ...a,
        variant: String(a.variant).trim() as 'a' | 'b',
        assigned_at: iso(a.assigned_at),
        started_at: iso(a.started_at),
        completed_at: iso(a.completed_at),
      })),
      deliveries: d.deliveries.map(({ payload, ...rest }) => ({ ...rest, request: payload, created_at: iso(rest.created_at), delivered_at: iso(rest.delivered_at) })),
      sync_records: d.syncRecords.map(({ base, ...r }) => ({ ...r, agreed: base, synced_at: iso(r.synced_at) })),
      sync_conflicts: d.syncConflicts.map(({ ours_value, theirs_value, ...c }) => ({
        ...c,
        ours: ours_value,
        theirs: theirs_value,
        detected_at: iso(c.detected_at),
        resolved_at: iso(c.resolved_at),
      })),
    },
  };
});
