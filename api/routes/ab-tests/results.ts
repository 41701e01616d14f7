import { endpoint, refused } from '../../endpoint';
import { AbTestParams, AbTestResultsView, presentResults } from './views';

export const getAbTestResults = endpoint({
  operationId: 'getAbTestResults',
  method: 'get',
  path: '/api/tours/ab-tests/{id}/results',
  tag: 'Experiments',
  summary: "An A/B test's results, and whether they can be trusted yet",
  description:
    'Per variant: exposures, starts, completions and the conversion rate with its Wilson interval; the difference and relative lift with their intervals; a pooled two-proportion z-test at the test\'s significance level; a sample-ratio-mismatch chi-square check against the traffic split (a mismatch blocks any recommendation); the sample each variant needs to detect the minimum detectable effect at 80 % power; and a recommendation that stays `keep_running` until that sample is reached.',
  access: 'admin',
  params: AbTestParams,
  responses: { 200: { description: 'The results', json: AbTestResultsView } },
  errors: ['not_found'],
}).handle(async ({ params, auth }, { experiments }) => {
  const found = await experiments.results(auth, params.id);
  if (!found.ok) return refused(found.refusal);
  return { status: 200, body: presentResults(found.value.test, found.value.results) };
});
