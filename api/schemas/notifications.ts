import { z } from 'zod';
import { limitQuery } from './integrations';

export const listNotificationsQuery = z.strictObject({ limit: limitQuery(200, 50) });
