/**
 * The OpenAPI 3.1 document, built from the endpoint declarations (api/endpoint.ts) with zod's own JSON
 * Schema output: OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what `z.toJSONSchema` writes, so
 * no converter library sits between the schemas the server parses with and the ones it documents.
 */
import { z } from 'zod';
import type { Access, Endpoint, ResponseSpec } from './endpoint';
import { ERROR_CODES, type ErrorCode } from './error-codes';

type JsonSchema = Record<string, unknown>;

const NAMED = new Map<string, z.ZodType>();

/** Gives a response schema its component name in the document (`#/components/schemas/{id}`). */
export function named<T extends z.ZodType>(id: string, schema: T): T {
  const taken = NAMED.get(id);
  if (taken && taken !== schema) throw new Error(`Two schemas are named ${id}`);
  NAMED.set(id, schema);
  return schema;
}

/** Endpoints that Express mounts together: under one prefix, for one audience, before or after the JSON body parser. */
export interface RouteGroup {
  prefix: string;
  access: Access;
  /** False for the routes mounted before the JSON body parser (health): a body can never fail them. */
  bodyParsed: boolean;
  endpoints: readonly Endpoint[];
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, JsonSchema> };
}

const COMPONENT = '#/components/schemas/';

const DESCRIPTION = `Product tours as durable Temporal workflows that drive wedding planners' CRM, calendar,
payment, email and SMS tools.

**Authentication.** Every \`/api\` route but this reference and the OAuth callback needs
\`Authorization: Bearer <JWT>\` with the claims \`sub\` (user UUID), \`org\` (organisation UUID) and \`exp\`,
issuer \`tourhub\`, audience \`tourhub-api\`. The caller's role (\`admin\` or \`member\`) comes from the
organisation's members, not from the token; a user who is not a member gets \`403 not_a_member\`. UUIDs
are accepted in any case and answered in lower case. \`npx tourhub token\` mints one for a development stack.

**Errors.** Every error is \`{"error": {"code", "message", "details"}}\` and changes nothing. Each operation
lists the codes it can answer with under their status. A method and path not in this document answer
\`404 route_not_found\` (under \`/api\`, a request without a valid token gets its \`401\` first). \`429\` and
\`503\` carry \`Retry-After\`: a \`503\` (\`database_unavailable\`, \`temporal_unavailable\`, \`tour_timeout\`) is an
outage to wait out, never a bug, and changed nothing the retry could double.

**Rate limits.** Progress updates and tour starts are limited per user and minute, across every API
process. Their answers carry \`RateLimit-Policy\` and \`RateLimit\` (draft-ietf-httpapi-ratelimit-headers), and
one past the limit is \`429 rate_limited\`.`;

const pascal = (id: string) => id[0]!.toUpperCase() + id.slice(1);

/** zod's JSON Schema with the keys a component or a parameter must not carry. */
function clean(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

/** The error codes an endpoint can answer with: its own refusals and those of the middleware in front of it. */
export function errorCodesOf(e: Endpoint, group: Pick<RouteGroup, 'bodyParsed'>): ErrorCode[] {
  const codes = new Set<ErrorCode>(['internal_error']);
  if (group.bodyParsed) for (const c of ['malformed_json', 'bad_request', 'payload_too_large', 'unsupported_encoding'] as const) codes.add(c);
  if (e.raw) for (const c of ['bad_request', 'payload_too_large', 'unsupported_encoding'] as const) codes.add(c);
  if (e.body) codes.add('unsupported_media_type');
  if (e.params || e.query || e.headers || e.body) codes.add('validation_error');
  if (e.access !== 'public') for (const c of ['missing_token', 'invalid_token', 'token_expired', 'auth_unavailable', 'not_a_member'] as const) codes.add(c);
  if (e.access === 'admin') codes.add('admin_required');
  // Every authenticated route reads Postgres; an outage is 503, never a 500.
  if (e.access !== 'public') codes.add('database_unavailable');
  if (e.rateLimit) codes.add('rate_limited');
  for (const c of e.errors) codes.add(c);
  return [...codes];
}

/**
 * The IETF draft's fields (draft-ietf-httpapi-ratelimit-headers-11) on the answers of a rate-limited
 * endpoint: on every answer after the limit was checked, unless the deployment turned the limit off.
 */
function rateLimitHeaders(): Record<string, unknown> {
  return {
    RateLimit: {
      description: 'The caller\'s remaining quota under the policy and the seconds until it resets, e.g. `"progress";r=7;t=42`',
      required: false,
      schema: { type: 'string' },
    },
    'RateLimit-Policy': {
      description: 'The policy: its quota and window in seconds, e.g. `"progress";q=10;w=60`',
      required: false,
      schema: { type: 'string' },
    },
  };
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query' | 'header'): unknown[] {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) as JsonSchema;
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = clean(property);
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

function headerParameters(e: Endpoint): unknown[] {
  return Object.entries(e.raw?.headers ?? {}).map(([name, description]) => ({ name, in: 'header', required: false, description, schema: { type: 'string' } }));
}

/** A raw-body endpoint's body: its JSON schema where it has one, a string of each other type. */
function rawBody(raw: NonNullable<Endpoint['raw']>): unknown {
  const content: Record<string, unknown> = {};
  for (const type of raw.contentTypes) {
    content[type] = {
      schema: type === 'application/json' && raw.schema ? clean(z.toJSONSchema(raw.schema, { io: 'input', target: 'draft-2020-12' }) as JsonSchema) : { type: 'string' },
    };
  }
  // x-raw-body: the tests (and any reader) can tell a body read as bytes from a parsed JSON one.
  return { required: false, description: `Read as bytes (up to ${raw.limit}) and checked against its signature before it is parsed`, 'x-raw-body': true, content };
}

function errorResponse(status: number, codes: ErrorCode[], rateLimited: boolean): unknown {
  const headers =
    status === 429 || status === 503
      ? {
          'Retry-After': { description: 'Seconds to wait before retrying', required: true, schema: { type: 'integer' } },
          // Every 429 `rate_limited` carries them; a deployment that turned the limit off sends none.
          ...(rateLimited && status === 429 ? rateLimitHeaders() : {}),
        }
      : undefined;
  return {
    description: codes.map((c) => `\`${c}\`: ${ERROR_CODES[c].description}`).join('\n\n'),
    ...(headers ? { headers } : {}),
    content: {
      'application/json': {
        schema: {
          allOf: [
            { $ref: `${COMPONENT}Error` },
            { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: codes } } } } },
          ],
        },
      },
    },
  };
}

function successResponse(spec: ResponseSpec, component: string | undefined, rateLimited: boolean): unknown {
  const cookie = spec.setsCookie ? { 'Set-Cookie': { description: spec.setsCookie, schema: { type: 'string' } } } : undefined;
  if ('json' in spec) {
    const headers = { ...(rateLimited ? rateLimitHeaders() : {}), ...cookie };
    return {
      description: spec.description,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      content: { 'application/json': { schema: { $ref: `${COMPONENT}${component}` } } },
    };
  }
  if ('redirect' in spec) {
    // Express says where in the body too, for a client that does not follow redirects.
    const note = { schema: { type: 'string' }, example: 'Found. Redirecting to https://…' };
    return {
      description: spec.description,
      headers: { Location: { description: 'Where to go', schema: { type: 'string', format: 'uri' } }, ...cookie },
      content: { 'text/plain': note, 'text/html': note },
    };
  }
  const headers = cookie ? { headers: cookie } : {};
  if ('content' in spec) return { description: spec.description, ...headers, content: Object.fromEntries(spec.content.map((type) => [type, { schema: { type: 'string' } }])) };
  return { description: spec.description, ...headers };
}

/** A body's media types: JSON by its schema; text/plain as a string whose content is that JSON (a sendBeacon body). */
function requestContent(e: Endpoint, ref: string): Record<string, unknown> {
  const content: Record<string, unknown> = {};
  for (const type of e.bodyMediaTypes ?? ['application/json']) {
    content[type] = type === 'application/json' ? { schema: { $ref: ref } } : { schema: { type: 'string', contentMediaType: 'application/json', contentSchema: { $ref: ref } } };
  }
  return content;
}

/** Schemas with component names: a schema keeps its first name; a name taken by another schema gets a number. */
function componentRegistry() {
  const registry = z.registry<{ id: string }>();
  const taken = new Set<string>();
  return {
    registry,
    name(schema: z.ZodType, wanted: string): string {
      const existing = registry.get(schema);
      if (existing) return existing.id;
      let id = wanted;
      for (let n = 2; taken.has(id); n++) id = `${wanted}${n}`;
      taken.add(id);
      registry.add(schema, { id });
      return id;
    },
  };
}

export function buildOpenApiDocument(groups: readonly RouteGroup[], opts: { version: string; tags?: Record<string, string> }): OpenApiDocument {
  // Responses and bodies become components; a schema used twice (a view, one response of several routes) is written once.
  const outputs = componentRegistry();
  const inputs = componentRegistry();
  for (const [id, schema] of NAMED) outputs.name(schema, id);
  const idOf = (components: ReturnType<typeof componentRegistry>, schema: z.ZodType, wanted: string) => components.name(schema, wanted);

  const operations: { path: string; method: string; build: () => unknown }[] = [];
  const seen = new Set<string>();
  for (const group of groups) {
    for (const e of group.endpoints) {
      if (seen.has(e.operationId)) throw new Error(`Two endpoints have the operationId ${e.operationId}`);
      seen.add(e.operationId);
      const body = e.body ? idOf(inputs, e.body, `${pascal(e.operationId)}Body`) : undefined;
      const components = new Map<string, string>();
      for (const [status, spec] of Object.entries(e.responses)) {
        if ('json' in spec) components.set(status, idOf(outputs, spec.json, `${pascal(e.operationId)}Response`));
      }
      const codes = errorCodesOf(e, group);
      operations.push({
        path: e.path,
        method: e.method,
        build: () => {
          const byStatus = new Map<number, ErrorCode[]>();
          for (const code of codes) byStatus.set(ERROR_CODES[code].status, [...(byStatus.get(ERROR_CODES[code].status) ?? []), code]);
          const responses: Record<string, unknown> = {};
          for (const [status, spec] of Object.entries(e.responses)) responses[status] = successResponse(spec, components.get(status), e.rateLimit !== undefined);
          for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) responses[String(status)] = errorResponse(status, list, e.rateLimit !== undefined);
          return {
            operationId: e.operationId,
            summary: e.summary,
            ...(e.description ? { description: e.description } : {}),
            tags: [e.tag],
            security: e.access === 'public' ? [] : [{ bearer: [] }],
            parameters: [
              ...parameters(e.params, 'path'),
              ...parameters(e.query, 'query'),
              ...parameters(e.headers, 'header'),
              ...headerParameters(e),
              ...(e.readsCookies ?? []).map((c) => ({ name: c.name, in: 'cookie', required: false, description: c.description, schema: { type: 'string' } })),
            ],
            ...(e.raw ? { requestBody: rawBody(e.raw) } : {}),
            ...(e.body ? { requestBody: { required: !e.body.safeParse({}).success, content: requestContent(e, `${COMPONENT}${body}`) } } : {}),
            responses,
          };
        },
      });
    }
  }

  const uri = (id: string) => `${COMPONENT}${id}`;
  const written = {
    ...z.toJSONSchema(outputs.registry, { io: 'output', target: 'draft-2020-12', uri }).schemas,
  } as Record<string, JsonSchema>;
  for (const [id, schema] of Object.entries(z.toJSONSchema(inputs.registry, { io: 'input', target: 'draft-2020-12', uri }).schemas)) {
    if (written[id]) throw new Error(`A request body and a response are both named ${id}`);
    written[id] = schema as JsonSchema;
  }

  const paths: OpenApiDocument['paths'] = {};
  for (const op of operations) (paths[op.path] ??= {})[op.method] = op.build();
  // In the order opts.tags gives them (the reference shows them so), then any it does not describe.
  const used = new Set(groups.flatMap((g) => g.endpoints.map((e) => e.tag)));
  const tags = [...new Set([...Object.keys(opts.tags ?? {}).filter((t) => used.has(t)), ...used])];
  return {
    openapi: '3.1.0',
    info: { title: 'tourhub API', version: opts.version, description: DESCRIPTION },
    tags: tags.map((name) => ({ name, ...(opts.tags?.[name] ? { description: opts.tags[name] } : {}) })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT with sub, org and exp; the role comes from membership (`npx tourhub token` in development)' } },
      schemas: Object.fromEntries(Object.entries(written).map(([id, schema]) => [id, clean(schema)])),
    },
  };
}
