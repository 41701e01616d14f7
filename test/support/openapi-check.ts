/**
 * Checks real responses against the OpenAPI document: the status is one the matched operation lists,
 * and the body matches that status's schema (JSON Schema 2020-12, with ajv). installResponseCheck()
 * hooks supertest, so every request of every suite that drives the app through supertest is checked
 * without the suite doing anything; a response the document does not allow fails that request.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { OpenApiDocument } from '../../api/openapi';

const DOCUMENT_ID = 'https://tourhub.invalid/openapi.json';

/** What an unknown method and path may answer: the router's 404, or the middleware in front of it. */
const UNROUTED_CODES = new Set([
  'route_not_found',
  'missing_token',
  'invalid_token',
  'token_expired',
  'auth_unavailable',
  'not_a_member',
  'admin_required',
  'malformed_json',
  'bad_request',
  'payload_too_large',
  'unsupported_encoding',
  'internal_error',
]);

export interface CheckedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or {} for other bodies (supertest's convention). */
  body: unknown;
  text: string | undefined;
}

interface Operation {
  path: string;
  method: string;
  responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }>;
}

const escape = (pointer: string) => pointer.replace(/~/g, '~0').replace(/\//g, '~1');

/** The app's document, loaded on first use: every suite installs the check, few send requests. */
function appDocument(): OpenApiDocument {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../../api/app') as typeof import('../../api/app')).openApiDocument();
}

export function createResponseChecker(document: OpenApiDocument = appDocument()) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...document, $id: DOCUMENT_ID });
  const validators = new Map<string, ValidateFunction>();
  const validatorAt = (pointer: string) => {
    let v = validators.get(pointer);
    if (!v) {
      v = ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer}` });
      validators.set(pointer, v);
    }
    return v;
  };

  const routes = Object.entries(document.paths).map(([path, item]) => ({
    path,
    pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+')}/?$`),
    // The most literal template wins: /api/integrations/health before /api/integrations/{id}.
    params: (path.match(/\{/g) ?? []).length,
    item: item as Record<string, { responses: Operation['responses'] } | undefined>,
  }));

  function operationFor(method: string, pathname: string): Operation | undefined {
    const matches = routes.filter((r) => r.pattern.test(pathname) && r.item[method]).sort((a, b) => a.params - b.params);
    const best = matches[0];
    return best ? { path: best.path, method, responses: best.item[method]!.responses } : undefined;
  }

  const errorsOf = (v: ValidateFunction) => (v.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);

  /** What is wrong with this response according to the document; empty when nothing is. */
  function check(method: string, url: string, res: CheckedResponse): string[] {
    const lower = method.toLowerCase();
    if (lower === 'head' || lower === 'options') return [];
    const pathname = new URL(url, 'http://localhost').pathname;
    const type = String(res.headers['content-type'] ?? '');
    const op = operationFor(lower, pathname);
    if (!op) {
      const code = (res.body as { error?: { code?: unknown } })?.error?.code;
      const envelope = validatorAt('/components/schemas/Error');
      if (!envelope(res.body)) return [`no operation for ${method} ${pathname}, and the answer is not the error envelope: ${errorsOf(envelope).join('; ')}`];
      return UNROUTED_CODES.has(String(code)) ? [] : [`no operation for ${method} ${pathname}, yet it answered ${res.status} ${String(code)}`];
    }
    const where = `${method} ${op.path}`;
    const response = op.responses[String(res.status)];
    if (!response) return [`${where} answered ${res.status}, which the document does not list (it lists ${Object.keys(op.responses).join(', ')})`];
    const pointer = `/paths/${escape(op.path)}/${lower}/responses/${res.status}`;
    const problems: string[] = [];
    const content = response.content ?? {};
    if (content['application/json']) {
      if (!type.startsWith('application/json')) problems.push(`${where} ${res.status} should be application/json, was "${type}"`);
      const validate = validatorAt(`${pointer}/content/application~1json/schema`);
      if (!validate(res.body)) problems.push(`${where} ${res.status} body does not match the document: ${errorsOf(validate).join('; ')}`);
    } else if (Object.keys(content).length > 0) {
      if (!Object.keys(content).some((t) => type.startsWith(t))) problems.push(`${where} ${res.status} is "${type}", the document says ${Object.keys(content).join(' or ')}`);
    } else if (res.text) {
      problems.push(`${where} ${res.status} has a body the document does not describe`);
    }
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      if ((header as { required?: boolean }).required === false) continue;
      if (res.headers[name.toLowerCase()] === undefined) problems.push(`${where} ${res.status} lacks the ${name} header`);
    }
    return problems;
  }

  return { check, operationFor };
}

let installed = false;

/** Makes every supertest request in this test file fail when its response breaks the document. */
export function installResponseCheck(): void {
  if (installed) return;
  installed = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Test = require('supertest/lib/test') as { prototype: { assert(err: unknown, res: unknown, fn?: (err: unknown, res: unknown) => void): void } };
  const assert = Test.prototype.assert;
  let checker: ReturnType<typeof createResponseChecker> | undefined;
  Test.prototype.assert = function (this: { method: string; url: string }, resError, res, fn) {
    if (res && fn) {
      checker ??= createResponseChecker();
      const problems = checker.check(this.method, this.url, res as CheckedResponse);
      if (problems.length > 0) {
        fn.call(this, new Error(`The response breaks the OpenAPI document (api/openapi.ts):\n  ${problems.join('\n  ')}`), res);
        return;
      }
    }
    assert.call(this, resError, res, fn);
  };
}
