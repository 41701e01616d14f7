import { z } from 'zod';
import { endpoint, refused } from '../../../endpoint';
import { canonicalUuid } from '../../shared';
import { ConflictView, presentConflict, SyncValueSchema } from './views';

const ResolveBody = z
  .strictObject({
    choice: z.enum(['ours', 'theirs', 'value']).describe('Keep our value, take the provider\'s, or set `value` on both sides'),
    value: SyncValueSchema.optional().describe('With `choice: "value"` only'),
  })
  .superRefine((body, ctx) => {
    if (body.choice === 'value' && body.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: 'required with choice "value"' });
    if (body.choice !== 'value' && body.value !== undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: 'only with choice "value"' });
  });

export const resolveConflict = endpoint({
  operationId: 'resolveSyncConflict',
  method: 'post',
  path: '/api/integrations/conflicts/{id}/resolve',
  tag: 'Sync',
  summary: 'Resolve a manual conflict: keep ours, take theirs, or a value of your own',
  description:
    "Recorded once. The integration's sync is asked for a pass, which applies it: the value becomes ours, and where the provider holds something else it is sent through a delivery keyed by the conflict and the choice, so the provider gets it exactly once. `resolution.applied_at` is set once it went through.",
  access: 'admin',
  params: z.strictObject({ id: canonicalUuid() }),
  body: ResolveBody,
  responses: {
    202: {
      description: 'Resolved; the provider gets it on the next pass',
      json: z.strictObject({
        conflict: ConflictView,
        sync_requested: z.boolean().describe("False when Temporal could not be reached: the integration's next scheduled pass applies it"),
      }),
    },
  },
  errors: ['not_found', 'conflict_already_resolved'],
}).handle(async ({ params, body, auth }, { sync }) => {
  const result = await sync.resolve(auth, params.id, body.choice, body.value);
  if (!result.ok) return refused(result.refusal);
  return { status: 202, body: { conflict: presentConflict(result.value.conflict), sync_requested: result.value.syncRequested } };
});
