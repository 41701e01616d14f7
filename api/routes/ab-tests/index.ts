import type { RouteGroup } from '../../openapi';
import { createAbTest } from './create';
import { getAbTest } from './get';
import { listAbTests } from './list';
import { getAbTestResults } from './results';
import { setAbTestStatus } from './status';
import { updateAbTest } from './update';

/** Experiments (admins): mounted before the members' /api/tours, so "ab-tests" is never read as a tour id. */
export const abTestRoutes: RouteGroup = {
  prefix: '/api/tours/ab-tests',
  access: 'admin',
  bodyParsed: true,
  endpoints: [listAbTests, createAbTest, getAbTest, updateAbTest, setAbTestStatus, getAbTestResults],
};
