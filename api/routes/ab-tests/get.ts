import { endpoint, refused } from '../../endpoint';
import { AbTestEnvelope, AbTestParams, presentAbTest } from './views';

export const getAbTest = endpoint({
  operationId: 'getAbTest',
  method: 'get',
  path: '/api/tours/ab-tests/{id}',
  tag: 'Experiments',
  summary: 'An A/B test',
  access: 'admin',
  params: AbTestParams,
  responses: { 200: { description: 'The test', json: AbTestEnvelope } },
  errors: ['not_found'],
}).handle(async ({ params, auth }, { experiments }) => {
  const found = await experiments.get(auth, params.id);
  if (!found.ok) return refused(found.refusal);
  return { status: 200, body: { ab_test: presentAbTest(found.value) } };
});
