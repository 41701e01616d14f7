import express, { Router, type Express, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { version } from '../package.json';
import { createApiContext, type ApiContext, type AppDeps } from './context';
import { expressPath, mountEndpoint } from './endpoint';
import { authenticate, requireAdmin } from './middleware/auth';
import { codecAuthenticate, codecCors } from './middleware/codec';
import { errorHandler, parseTextAsJson, unknownRoute } from './middleware/errors';
import { loggableUrl } from './middleware/log-url';
import { buildOpenApiDocument, type OpenApiDocument, type RouteGroup } from './openapi';
import { ALL_ROUTE_GROUPS, ROUTE_GROUPS, TAGS } from './routes';

export type { AppDeps } from './context';

let document: OpenApiDocument | undefined;

/** The OpenAPI document of every route, built once from the endpoint declarations. */
export function openApiDocument(): OpenApiDocument {
  document ??= buildOpenApiDocument(ALL_ROUTE_GROUPS, { version, tags: TAGS });
  return document;
}

export function createApp(deps: AppDeps): Express {
  const ctx = createApiContext(deps, openApiDocument);
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(
    pinoHttp({
      logger: deps.logger,
      autoLogging: { ignore: (req) => req.url === '/healthz' },
      // Method, URL and status only: headers carry bearer tokens, bodies carry people's feedback, and an
      // OAuth callback's query carries its code and state (loggableUrl keeps their names, not their values).
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: loggableUrl(req.url) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  for (const group of ROUTE_GROUPS.beforeBodyParser) mountGroup(app, group, ctx);
  // The codec endpoint: its own CORS (the Web UI's origin) and authentication (bearer token or session
  // cookie), ahead of every body parser so a page on another origin is refused before its body is read.
  app.use('/codec', codecCors(deps.codec?.uiOrigins ?? []));
  mountGroup(app, ROUTE_GROUPS.codec.public, ctx);
  app.use('/codec', codecAuthenticate(deps.verifier, ctx.members, ctx.codec.sessions, deps.codec?.adminOrgId));
  installOwnBodyParsers(app, ALL_ROUTE_GROUPS);
  app.use(express.json({ limit: BODY_LIMIT, strict: true }));
  mountGroup(app, ROUTE_GROUPS.codec.authenticated, ctx);
  for (const group of ROUTE_GROUPS.public) mountGroup(app, group, ctx);
  app.use('/api', authenticate(deps.verifier, ctx.members));
  for (const group of ROUTE_GROUPS.authenticated) mountGroup(app, group, ctx);
  app.use(unknownRoute);
  app.use(errorHandler(deps.logger));
  return app;
}

/** What a body may weigh unless its endpoint says otherwise: every body but an analytics batch is small. */
const BODY_LIMIT = '64kb';

/**
 * Endpoints with a larger limit or another media type get their parsers ahead of the app's: the app's
 * JSON parser then sees a body already read and leaves it alone.
 */
function installOwnBodyParsers(app: Express, groups: readonly RouteGroup[]): void {
  for (const e of groups.flatMap((g) => g.endpoints)) {
    if (!e.body || (!e.bodyLimit && !e.bodyMediaTypes)) continue;
    const limit = e.bodyLimit ?? BODY_LIMIT;
    const parsers: RequestHandler[] = [express.json({ limit, strict: true })];
    if (e.bodyMediaTypes?.includes('text/plain')) parsers.push(express.text({ type: 'text/plain', limit }), parseTextAsJson);
    app[e.method](expressPath(e.path), ...parsers);
  }
}

/** One router per group; an admin group refuses members before any route (an unknown path included). */
function mountGroup(app: Express, group: RouteGroup, ctx: ApiContext): void {
  const router = Router();
  if (group.access === 'admin') router.use(requireAdmin());
  for (const e of group.endpoints) {
    // The document says who may call each endpoint; the group's mount is what enforces it.
    if (e.access !== group.access) throw new Error(`${e.operationId} is declared ${e.access} but mounted with the ${group.access} routes`);
    mountEndpoint(router, e, ctx, group.prefix);
  }
  if (group.prefix) app.use(group.prefix, router);
  else app.use(router);
}
