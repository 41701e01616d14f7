import type { RouteGroup } from '../../openapi';
import { docsAsset, docsPage } from './docs';
import { openapiJson } from './openapi-json';

/** Public, like any API's reference: it describes the routes, it opens none of them. */
export const referenceRoutes: RouteGroup = { prefix: '/api', access: 'public', bodyParsed: true, endpoints: [openapiJson, docsPage, docsAsset] };
