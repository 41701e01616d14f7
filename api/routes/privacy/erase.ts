import { z } from 'zod';
import { WORKFLOW_SERVICE_ERROR_CODES } from '../../../services/temporal';
import { endpoint, refused } from '../../endpoint';
import { canonicalUuid } from '../shared';
import { PersonParams } from './views';

const count = z.number().int().min(0);

export const eraseUserData = endpoint({
  operationId: 'eraseUserData',
  method: 'delete',
  path: '/api/tours/users/{userId}/data',
  tag: 'Privacy',
  summary: "Erase one person's tour data (GDPR erasure)",
  description:
    "Cancels the deliveries not yet sent for them, terminates and deletes their tour workflows from Temporal (history included), then deletes their progress, feedback, events, pseudonymous aggregates, A/B assignments, membership, the webhook copies of their tour events (sent and received) and two-way sync's copies of their record (agreed values, conflicts, staged reads), in the caller's organisation. The organisation's delivery records stay (two-way sync's calls about them included), with everything that named the person removed; anonymous daily counts stay. If Temporal is unreachable nothing is deleted: ask again.",
  access: 'admin',
  params: PersonParams,
  responses: {
    200: {
      description: 'What was erased',
      json: z.strictObject({
        user_id: canonicalUuid(),
        erased_at: z.string(),
        progress: count,
        events: count,
        pseudonymised_aggregates: count,
        ab_assignments: count,
        membership: count,
        deliveries_cancelled: count,
        deliveries_anonymised: count,
        outbound_webhook_events: count.describe('Tour events about them queued or sent to webhook subscriptions, with their deliveries and attempts'),
        inbound_webhook_events: count.describe('Tour events about them received at /api/webhooks/tour-events'),
        sync_records: count.describe("Two-way sync's last agreed copies of their record at each provider (their name, phone, events)"),
        sync_conflicts: count.describe('Two-way sync conflicts about them, open or resolved, with both values'),
        workflows_deleted: count,
      }),
    },
  },
  errors: ['not_found', ...WORKFLOW_SERVICE_ERROR_CODES],
}).handle(async ({ params, auth }, { userData }) => {
  const userId = params.userId.toLowerCase();
  const erased = await userData.erase(auth, userId);
  if (!erased.ok) return refused(erased.refusal);
  return { status: 200, body: { user_id: userId, erased_at: new Date().toISOString(), ...erased.value } };
});
