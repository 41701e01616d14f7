import { z } from 'zod';
import { AB_TEST_STATUSES } from '../../../domain/ab';
import { endpoint, refused } from '../../endpoint';
import { AbTestEnvelope, AbTestParams, presentAbTest } from './views';

export const setAbTestStatus = endpoint({
  operationId: 'setAbTestStatus',
  method: 'post',
  path: '/api/tours/ab-tests/{id}/status',
  tag: 'Experiments',
  summary: 'Run, pause, complete or archive an A/B test',
  description:
    'draft -> running or archived; running -> paused or completed; paused -> running or completed; completed -> archived. One running test per tour (409 `ab_test_already_running`). A paused test assigns nobody new; people already in it keep their variant to the end of their run.',
  access: 'admin',
  params: AbTestParams,
  body: z.strictObject({ status: z.enum(AB_TEST_STATUSES.filter((s) => s !== 'draft') as ['running', 'paused', 'completed', 'archived']) }),
  responses: { 200: { description: 'The test in its new status', json: AbTestEnvelope } },
  errors: ['not_found', 'invalid_ab_test_transition', 'ab_test_already_running'],
}).handle(async ({ params, body, auth }, { experiments }) => {
  const moved = await experiments.setStatus(auth, params.id, body.status);
  if (!moved.ok) return refused(moved.refusal);
  return { status: 200, body: { ab_test: presentAbTest(moved.value) } };
});
