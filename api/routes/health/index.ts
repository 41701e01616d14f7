import type { RouteGroup } from '../../openapi';
import { liveness } from './liveness';
import { readiness } from './readiness';

/** Mounted before the JSON body parser and the token check: probes send neither. */
export const healthRoutes: RouteGroup = { prefix: '', access: 'public', bodyParsed: false, endpoints: [liveness, readiness] };
