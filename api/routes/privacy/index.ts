import type { RouteGroup } from '../../openapi';
import { eraseUserData } from './erase';
import { exportUserData } from './export';

export const privacyRoutes: RouteGroup = {
  prefix: '/api/tours/users',
  access: 'admin',
  bodyParsed: true,
  endpoints: [exportUserData, eraseUserData],
};
