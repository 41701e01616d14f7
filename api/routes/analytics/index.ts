import type { RouteGroup } from '../../openapi';
import { beaconBatch } from './beacon-batch';
import { mintBeaconToken } from './beacon-token';
import { analyticsDashboard } from './dashboard';
import { trackEvents } from './track-events';

export const analyticsRoutes: RouteGroup = {
  prefix: '/api/tours/analytics',
  access: 'member',
  bodyParsed: true,
  endpoints: [trackEvents, mintBeaconToken],
};

export const analyticsAdminRoutes: RouteGroup = {
  prefix: '/api/tours/analytics/dashboard',
  access: 'admin',
  bodyParsed: true,
  endpoints: [analyticsDashboard],
};

/** sendBeacon cannot send our bearer token: the beacon token in its body authenticates (services/beacon-tokens.ts). */
export const analyticsBeaconRoutes: RouteGroup = {
  prefix: '/api/tours/analytics/batch',
  access: 'public',
  bodyParsed: true,
  endpoints: [beaconBatch],
};
