import { endpoint, refused } from '../../endpoint';
import { AbTestEnvelope, AbTestParams, fieldsOf, presentAbTest, UpdateAbTestBody } from './views';

export const updateAbTest = endpoint({
  operationId: 'updateAbTest',
  method: 'patch',
  path: '/api/tours/ab-tests/{id}',
  tag: 'Experiments',
  summary: 'Change an A/B test',
  description:
    'Name, description and traffic split change at any time before the test completes: people already assigned keep their variant (assignments are stored on first exposure). Variants, metric and sizing change only in draft (409 `ab_test_not_draft`).',
  access: 'admin',
  params: AbTestParams,
  body: UpdateAbTestBody,
  responses: { 200: { description: 'The test as changed', json: AbTestEnvelope } },
  errors: ['not_found', 'ab_test_not_draft', 'unknown_variant_step'],
}).handle(async ({ params, body, auth }, { experiments }) => {
  const updated = await experiments.update(auth, params.id, fieldsOf(body));
  if (!updated.ok) return refused(updated.refusal);
  return { status: 200, body: { ab_test: presentAbTest(updated.value) } };
});
