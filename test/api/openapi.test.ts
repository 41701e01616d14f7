import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Router, type Express } from 'express';
import request from 'supertest';
import { openApiDocument } from '../../api/app';
import { ERROR_CODES } from '../../api/error-codes';
import type { OpenApiDocument } from '../../api/openapi';
import { createResponseChecker } from '../support/openapi-check';
import { referenceApp } from '../support/reference-app';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: unknown;
  slash?: boolean;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Every route Express serves, as "GET /api/tours/{id}", found by walking the app's router stack. */
function expressRoutes(app: Express): string[] {
  const routes: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const path of ([] as string[]).concat(layer.route.path)) {
          const full = `${prefix}${path}`.replace(/(.)\/$/, '$1').replace(/:(\w+)/g, '{$1}');
          for (const [method, on] of Object.entries(layer.route.methods)) {
            if (on) routes.push(`${method === '_all' ? 'ALL' : method.toUpperCase()} ${full}`);
          }
        }
      } else if (layer.handle?.stack) {
        // A mounted router: its routes live under the path it was mounted at.
        if (!layer.slash && typeof layer.rawPath !== 'string') throw new Error(`A router is mounted on ${String(layer.rawPath)}: name its routes with a string path`);
        walk(layer.handle.stack, layer.slash ? prefix : `${prefix}${layer.rawPath as string}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return routes.sort();
}

function documentedRoutes(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

/** Routes Express serves that the document lacks, and operations the document has that Express does not serve. */
function compare(app: Express, doc: OpenApiDocument) {
  const served = expressRoutes(app);
  const documented = documentedRoutes(doc);
  return { undocumented: served.filter((r) => !documented.includes(r)), notServed: documented.filter((r) => !served.includes(r)) };
}

let reference: ReturnType<typeof referenceApp>;

beforeAll(() => {
  reference = referenceApp();
});

afterAll(async () => {
  await reference.close();
});

describe('the OpenAPI document', () => {
  it('documents every route Express serves, and nothing Express does not serve', () => {
    const routes = expressRoutes(reference.app);
    expect(routes).toEqual(expect.arrayContaining(['GET /healthz', 'PUT /api/tours/progress/{progressId}', 'GET /api/integrations/oauth/{provider}/callback', 'GET /api/openapi.json']));
    expect(compare(reference.app, openApiDocument())).toEqual({ undocumented: [], notServed: [] });
  });

  it('notices a route added outside the endpoint declarations, and an operation nobody serves', () => {
    const { app, close } = referenceApp();
    app.get('/api/sneaky', (_req, res) => {
      res.json({});
    });
    const extra = Router();
    extra.post('/things/:thingId', (_req, res) => {
      res.json({});
    });
    app.use('/api/extra', extra);
    const doc = openApiDocument();
    const withGhost = { ...doc, paths: { ...doc.paths, '/api/ghost': { get: {} } } };
    expect(compare(app, withGhost)).toEqual({ undocumented: ['GET /api/sneaky', 'POST /api/extra/things/{thingId}'], notServed: ['GET /api/ghost'] });
    return close();
  });

  it('is served at /api/openapi.json without a token', async () => {
    const res = await request(reference.app).get('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  it('has schemas that compile as JSON Schema 2020-12, every $ref resolving', () => {
    const doc = openApiDocument();
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    ajv.addSchema({ ...doc, $id: 'https://tourhub.invalid/openapi.json' });
    const pointers: string[] = Object.keys(doc.components.schemas).map((id) => `/components/schemas/${id}`);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>)) {
        for (const [status, response] of Object.entries(op.responses)) {
          for (const type of Object.keys(response.content ?? {})) {
            pointers.push(`/paths/${path.replace(/\//g, '~1')}/${method}/responses/${status}/content/${type.replace(/\//g, '~1')}/schema`);
          }
        }
      }
    }
    for (const pointer of pointers) expect(() => ajv.compile({ $ref: `https://tourhub.invalid/openapi.json#${pointer}` })).not.toThrow();
    expect(pointers.length).toBeGreaterThan(50);
  });

  it('lists each error code of api/error-codes.ts under its status, and the common ones on every route', () => {
    const doc = openApiDocument();
    const listed = new Map<string, Set<string>>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, { security: unknown[]; requestBody?: { 'x-raw-body'?: boolean }; responses: Record<string, unknown> }>)) {
        const codes = new Set<string>();
        for (const [status, response] of Object.entries(op.responses)) {
          const schema = (response as { content?: { 'application/json'?: { schema?: { allOf?: { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } }[] } } } }).content?.[
            'application/json'
          ]?.schema;
          for (const code of schema?.allOf?.[1]?.properties?.error?.properties?.code?.enum ?? []) {
            expect({ code, status: Number(status) }).toEqual({ code, status: ERROR_CODES[code as keyof typeof ERROR_CODES].status });
            codes.add(code);
          }
        }
        const where = `${method.toUpperCase()} ${path}`;
        listed.set(where, codes);
        expect({ where, internal: codes.has('internal_error') }).toEqual({ where, internal: true });
        if (op.security.length > 0) expect({ where, token: ['missing_token', 'invalid_token', 'token_expired'].every((c) => codes.has(c)) }).toEqual({ where, token: true });
        if (op.requestBody?.['x-raw-body']) {
          // Read as bytes, whatever the type (a signature covers them): only the size and the stream can fail before the handler.
          expect({ where, body: ['payload_too_large', 'bad_request'].every((c) => codes.has(c)) }).toEqual({ where, body: true });
        } else if (op.requestBody) {
          expect({ where, body: ['malformed_json', 'validation_error', 'payload_too_large', 'unsupported_media_type'].every((c) => codes.has(c)) }).toEqual({ where, body: true });
        }
      }
    }
    expect(listed.get('GET /api/integrations/{id}')).toEqual(expect.any(Set));
    expect([...listed.get('GET /api/integrations/{id}')!]).toEqual(expect.arrayContaining(['admin_required', 'not_found', 'validation_error']));
    // route_not_found belongs to no route: the document's description says when it comes.
    const everywhere = new Set([...listed.values()].flatMap((s) => [...s]));
    expect(Object.keys(ERROR_CODES).filter((c) => !everywhere.has(c))).toEqual(['route_not_found']);
    expect(doc.info.description).toContain('route_not_found');
  });

  it('is the yardstick the suites are held to: a status or body it does not allow fails the check', () => {
    const checker = createResponseChecker();
    const json = { 'content-type': 'application/json; charset=utf-8' };
    expect(checker.check('GET', '/healthz', { status: 200, headers: json, body: { status: 'ok' }, text: '{"status":"ok"}' })).toEqual([]);
    expect(checker.check('GET', '/healthz', { status: 418, headers: json, body: {}, text: '{}' })).toEqual([expect.stringContaining('answered 418')]);
    expect(checker.check('GET', '/healthz', { status: 200, headers: json, body: { status: 'ok', extra: 1 }, text: '' })).toEqual([expect.stringContaining('body does not match')]);
    const notFound = { error: { code: 'not_found', message: 'Integration not found', details: {} } };
    expect(checker.check('GET', '/api/integrations/health', { status: 404, headers: json, body: notFound, text: '' })).toEqual([expect.stringContaining('does not list')]);
    expect(checker.check('GET', '/api/integrations/6f1c2a4e-8b7d-4c3a-9e2f-1a2b3c4d5e6f', { status: 404, headers: json, body: notFound, text: '' })).toEqual([]);
    const wrongCode = { error: { code: 'tour_busy', message: 'no', details: {} } };
    expect(checker.check('GET', '/api/integrations/6f1c2a4e-8b7d-4c3a-9e2f-1a2b3c4d5e6f', { status: 404, headers: json, body: wrongCode, text: '' })).toEqual([expect.stringContaining('body does not match')]);
    const unrouted = { error: { code: 'route_not_found', message: 'No route', details: {} } };
    expect(checker.check('GET', '/api/nothing', { status: 404, headers: json, body: unrouted, text: '' })).toEqual([]);
    expect(checker.check('GET', '/api/nothing', { status: 200, headers: json, body: { fine: true }, text: '' })).toEqual([expect.stringContaining('not the error envelope')]);
  });
});

describe('/api/docs', () => {
  it('serves a page that loads Swagger UI from this server and the document from /api/openapi.json', async () => {
    const page = await request(reference.app).get('/api/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const urls = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(urls.sort()).toEqual(['/api/docs/assets/favicon-32x32.png', '/api/docs/assets/init.js', '/api/docs/assets/swagger-ui-bundle.js', '/api/docs/assets/swagger-ui.css']);
    const init = await request(reference.app).get('/api/docs/assets/init.js');
    expect(init.text).toContain("url: '/api/openapi.json'");
    expect(init.text).toContain('validatorUrl: null');
  });

  it('serves the assets from the swagger-ui-dist package, and nothing else', async () => {
    const css = await request(reference.app).get('/api/docs/assets/swagger-ui.css');
    expect({ status: css.status, type: css.headers['content-type'] }).toEqual({ status: 200, type: expect.stringMatching(/^text\/css/) });
    const js = await request(reference.app).get('/api/docs/assets/swagger-ui-bundle.js');
    expect({ status: js.status, type: js.headers['content-type'], size: js.text.length > 100_000 }).toEqual({ status: 200, type: expect.stringMatching(/^text\/javascript/), size: true });
    const other = await request(reference.app).get('/api/docs/assets/package.json');
    expect({ status: other.status, code: other.body.error.code }).toEqual({ status: 400, code: 'validation_error' });
    const escape = await request(reference.app).get('/api/docs/assets/..%2Fpackage.json');
    expect(escape.status).toBe(400);
  });
});
