import type { RouteGroup } from '../../openapi';
import { listNotifications } from './list';

export const notificationsRoutes: RouteGroup = { prefix: '/api/notifications', access: 'admin', bodyParsed: true, endpoints: [listNotifications] };
