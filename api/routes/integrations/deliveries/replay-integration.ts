import { z } from 'zod';
import { endpoint, refused } from '../../../endpoint';
import { canonicalUuid } from '../../shared';
import { IntegrationParams } from '../views';

/** The only batch replay there is: every dead delivery of one integration. */
const ReplayIntegrationBody = z.strictObject({ status: z.literal('dead').optional() });

export const replayIntegration = endpoint({
  operationId: 'replayIntegration',
  method: 'post',
  path: '/api/integrations/{id}/replay',
  tag: 'Deliveries',
  summary: "Re-send the integration's dead deliveries, oldest first",
  description: 'At most `limit` per call; `remaining` says how many are left for the next call, once these have run.',
  access: 'admin',
  params: IntegrationParams,
  body: ReplayIntegrationBody,
  responses: {
    202: {
      description: 'The replays are running',
      json: z.strictObject({
        integration_id: canonicalUuid(),
        status: z.literal('dead'),
        replays: z.array(z.strictObject({ delivery_id: canonicalUuid(), workflow_id: z.string() })),
        count: z.number().int().min(0),
        limit: z.number().int().min(1),
        dead_total: z.number().int().min(0),
        remaining: z.number().int().min(0),
        not_replayable: z.array(canonicalUuid()).describe('Dead deliveries planned before calls were kept for replay'),
        failed: z.array(z.strictObject({ delivery_id: canonicalUuid(), error: z.string() })).describe('Replays that could not be started, and dead deliveries a concurrent replay claimed first'),
        message: z.string(),
      }),
    },
  },
  errors: ['not_found', 'integration_disabled', 'temporal_unavailable', 'tour_timeout', 'tour_busy'],
}).handle(async ({ params, auth }, { replays }) => {
  const outcome = await replays.integration(auth, params.id);
  if (!outcome.ok) return refused(outcome.refusal);
  const { started, failed, deadTotal, notReplayable, remaining, limit } = outcome.value;
  return {
    status: 202,
    body: {
      integration_id: params.id,
      status: 'dead',
      replays: started.map((r) => ({ delivery_id: r.delivery_id, workflow_id: r.workflow_id })),
      count: started.length,
      limit,
      dead_total: deadTotal,
      remaining,
      not_replayable: notReplayable,
      failed,
      message:
        remaining > 0
          ? `Started ${started.length} replays, the oldest first; at most ${limit} start per call, so ${remaining} dead deliveries remain: call again once these have run`
          : `Started ${started.length} replays (at most ${limit} per call)`,
    },
  };
});
