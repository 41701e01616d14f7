import { z } from 'zod';
import { AB_TEST_STATUSES } from '../../../domain/ab';
import { endpoint } from '../../endpoint';
import { canonicalUuid } from '../shared';
import { AbTestView, presentAbTest } from './views';

export const listAbTests = endpoint({
  operationId: 'listAbTests',
  method: 'get',
  path: '/api/tours/ab-tests',
  tag: 'Experiments',
  summary: "The organisation's A/B tests, newest first",
  access: 'admin',
  query: z.strictObject({ tour_id: canonicalUuid().optional(), status: z.enum(AB_TEST_STATUSES).optional() }),
  responses: { 200: { description: 'The tests', json: z.strictObject({ ab_tests: z.array(AbTestView) }) } },
  errors: [],
}).handle(async ({ query, auth }, { experiments }) => {
  const rows = await experiments.list(auth, { ...(query.tour_id ? { tourId: query.tour_id } : {}), ...(query.status ? { status: query.status } : {}) });
  return { status: 200, body: { ab_tests: rows.map(presentAbTest) } };
});
