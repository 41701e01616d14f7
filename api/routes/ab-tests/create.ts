import { endpoint, refused } from '../../endpoint';
import { AbTestEnvelope, CreateAbTestBody, fieldsOf, presentAbTest } from './views';

export const createAbTest = endpoint({
  operationId: 'createAbTest',
  method: 'post',
  path: '/api/tours/ab-tests',
  tag: 'Experiments',
  summary: 'Create an A/B test of a tour, as a draft',
  description: 'Variant fields merge into the steps by step key. Nobody is assigned until it runs (`POST .../status`).',
  access: 'admin',
  body: CreateAbTestBody,
  responses: { 201: { description: 'Created', json: AbTestEnvelope } },
  errors: ['not_found', 'unknown_variant_step'],
}).handle(async ({ body, auth }, { experiments }) => {
  const { tour_id, ...rest } = body;
  const created = await experiments.create(auth, tour_id, { ...fieldsOf(rest), test_name: body.test_name });
  if (!created.ok) return refused(created.refusal);
  return { status: 201, body: { ab_test: presentAbTest(created.value) } };
});
