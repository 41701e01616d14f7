import type { RouteGroup } from '../../openapi';
import { createTourConfig } from './create';
import { getTourConfig } from './get';
import { listTourConfigs } from './list';
import { publishTour, unpublishTour } from './publish';
import { deleteTourConfig } from './remove';
import { updateTourConfig } from './update';
import { listTourVersions } from './versions';

/** Authoring (admins): mounted before the members' /api/tours, so "config" is never read as a tour id. */
export const tourConfigRoutes: RouteGroup = {
  prefix: '/api/tours/config',
  access: 'admin',
  bodyParsed: true,
  endpoints: [listTourConfigs, createTourConfig, getTourConfig, updateTourConfig, deleteTourConfig, publishTour, unpublishTour, listTourVersions],
};
