import { z } from 'zod';
import type { ConflictRow } from '../../../../db/repositories/conflicts';
import { named } from '../../../openapi';
import { iso, timestamp, canonicalUuid } from '../../shared';

/** A synced field's value: what both sides compare. */
export const SyncValueSchema = z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]);

const side = z.strictObject({ value: SyncValueSchema, changed_at: timestamp.nullable().describe("When this side says it last changed; null when it does not say") });

export const ConflictView = named(
  'SyncConflict',
  z.strictObject({
    id: canonicalUuid(),
    integration_id: canonicalUuid(),
    provider: z.string(),
    record_key: z.string().describe("The record both sides hold: a couple's email (CRM, email, payment) or an event id (calendar)"),
    remote_id: z.string().nullable().describe("The provider's id of the record"),
    field: z.string().describe('first_name, last_name, phone, start, end, summary, ...'),
    ours: side,
    theirs: side,
    base_value: SyncValueSchema.describe('What both sides last agreed on; null if never'),
    user_id: canonicalUuid().nullable(),
    progress_id: canonicalUuid().nullable(),
    status: z.enum(['open', 'resolved']),
    detected_at: timestamp,
    resolution: z
      .strictObject({
        choice: z.enum(['ours', 'theirs', 'value']),
        value: SyncValueSchema,
        resolved_by: canonicalUuid().nullable(),
        resolved_at: timestamp,
        applied_at: timestamp.nullable().describe('When the provider took it (or, for theirs, when ours did); null while it is on its way'),
      })
      .nullable(),
  }),
);

export function presentConflict(c: ConflictRow & { provider: string }): z.input<typeof ConflictView> {
  return {
    id: c.id,
    integration_id: c.integration_id,
    provider: c.provider,
    record_key: c.record_key,
    remote_id: c.remote_id,
    field: c.field,
    ours: { value: c.ours_value, changed_at: iso(c.ours_at) },
    theirs: { value: c.theirs_value, changed_at: iso(c.theirs_at) },
    base_value: c.base_value ?? null,
    user_id: c.user_id,
    progress_id: c.progress_id,
    status: c.status,
    detected_at: iso(c.detected_at),
    resolution:
      c.status === 'resolved' && c.resolution && c.resolved_at
        ? { choice: c.resolution, value: c.resolved_value ?? null, resolved_by: c.resolved_by, resolved_at: iso(c.resolved_at), applied_at: iso(c.applied_at) }
        : null,
  };
}
