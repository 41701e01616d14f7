/**
 * One endpoint, declared once: method, path, who may call it, strict zod schemas for its parameters,
 * query and body, its responses, the refusals it can answer with, and a thin handler. Express mounts it
 * (mountEndpoint) and the OpenAPI document is built from the same declaration (api/openapi.ts), so the
 * reference cannot drift from what the server does.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseCookies } from 'cookie';
import express, { type RequestHandler, type Response, type Router } from 'express';
import type { z } from 'zod';
import type { Tenant } from '../db/tenant';
import type { Refusal } from '../services/result';
import type { ApiContext } from './context';
import type { ErrorCode } from './error-codes';
import { apiError, parse, requireBodyType } from './middleware/errors';
import type { RateLimitPolicy } from './rate-limits';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call: `public` needs no token (health, the reference, and the OAuth callback, whose signed
 * state is its proof), `member` a bearer token of any role, `admin` a token with the admin role.
 */
export type Access = 'public' | 'member' | 'admin';

export type ResponseSpec = (
  /** A JSON body of this schema. */
  | { description: string; json: z.ZodType }
  /** A redirect: the Location header says where. */
  | { description: string; redirect: true }
  /** A body that is not JSON (a page, a stylesheet), in one of these media types. */
  | { description: string; content: readonly string[] }
  /** No body. */
  | { description: string }
) & {
  /** The response always sets a cookie: what it is for (documented as its Set-Cookie header). */
  setsCookie?: string;
};

/** A cookie a reply sets; `maxAgeSeconds: 0` clears it. */
export interface SetCookie {
  name: string;
  value: string;
  path: string;
  maxAgeSeconds: number;
  secure: boolean;
  httpOnly: true;
  sameSite: 'lax' | 'strict';
}

type WithCookies<T> = T & { cookies?: readonly SetCookie[] };

/**
 * A body written over time (Server-Sent Events): the endpoint's function owns the response from the
 * status line on, and resolves when the stream has ended (the client left or the server is stopping).
 */
export type StreamWriter = (res: ServerResponse, req: IncomingMessage) => Promise<void>;

type ReplyFor<S extends number, R> = WithCookies<
  R extends { json: infer J extends z.ZodType }
    ? { status: S; body: z.input<J> }
    : R extends { redirect: true }
      ? { status: S; redirect: string }
      : R extends { content: readonly string[] }
        ? { status: S; file: string } | { status: S; text: string; type: string } | { status: S; stream: StreamWriter }
        : { status: S }
>;

/** What a handler answers: one of its declared responses, typed by status. */
export type Reply<Rs> = { [S in keyof Rs & number]: ReplyFor<S, Rs[S]> }[keyof Rs & number];

/** A service's refusal, answered as the error envelope with the status api/error-codes.ts gives its code. */
export interface Refused<Code extends string> {
  refused: Refusal<Code>;
}

export function refused<Code extends string>(refusal: Refusal<Code>): Refused<Code> {
  return { refused: refusal };
}

export interface EndpointInput<P, Q, B, A extends Access, H = undefined> {
  params: Parsed<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
  headers: Parsed<H>;
  auth: A extends 'public' ? undefined : Tenant;
  /** The request's cookies that the endpoint declares it reads (`readsCookies`); the others are not passed. */
  cookies: Readonly<Record<string, string | undefined>>;
  /** The request as it came: a raw-body endpoint's bytes (empty for the others), its headers and URL. */
  request: RawRequest;
}

export interface RawRequest {
  raw: Buffer;
  headers: IncomingHttpHeaders;
  /** Path and query as sent (`/api/webhooks/twilio/…?x=1`): with the public URL, what a sender signed. */
  originalUrl: string;
}

/**
 * An endpoint that reads its body as bytes (an inbound webhook: the signature covers exactly these
 * bytes, so nothing may parse or re-encode them first). Mounted before the JSON body parser.
 */
export interface RawBodySpec {
  /** What senders send, for the document; any type is read. */
  contentTypes: readonly string[];
  /** express.raw's limit (`64kb`); over it is 413 payload_too_large before the handler runs. */
  limit: string;
  /** The body's shape where it is JSON, for the document; the handler parses it after the signature check. */
  schema?: z.ZodType;
  /** Headers senders send, name -> description, for the document (checked by the handler: a missing signature is 401, not 400). */
  headers?: Record<string, string>;
}

/** A schema's parsed value, undefined where there is no schema; unknown in the router, which serves any endpoint. */
type Parsed<T> = unknown extends T ? unknown : T extends z.ZodType ? z.output<T> : undefined;

/** Everything about an endpoint but its handler: what the document is built from. */
/** Media types a request body may come in; JSON unless an endpoint says otherwise. */
export type BodyMediaType = 'application/json' | 'text/plain';

export interface EndpointSpec<A extends Access, P, Q, B, Rs, E extends readonly ErrorCode[], H = undefined> {
  /** Unique, camelCase: the OpenAPI operationId. */
  operationId: string;
  method: Method;
  /** OpenAPI style, `{name}` for a path parameter: `/api/tours/{id}/start`. */
  path: string;
  /** The reference groups operations by tag (the resource). */
  tag: string;
  summary: string;
  description?: string;
  access: A;
  /** Parsed in this order; a failure is 400 validation_error. An endpoint without `query` ignores the query string. */
  params?: P;
  query?: Q;
  /**
   * Request headers the handler reads (lower-case names, since Node gives them so), parsed like the rest
   * and documented as header parameters. Not strict: every request carries headers nobody declares.
   */
  headers?: H;
  /** Only endpoints with a body schema read the body, and they take only application/json unless `bodyMediaTypes` says more. */
  body?: B;
  /** Cookies the handler reads (documented as cookie parameters, never required by the document). */
  readsCookies?: readonly { name: string; description: string }[];
  /**
   * `text/plain` too, for `navigator.sendBeacon`, which cannot send JSON's media type without a CORS
   * preflight: the text is parsed as JSON against `body`.
   */
  bodyMediaTypes?: readonly BodyMediaType[];
  /** The largest body this endpoint reads, in body-parser's notation; the app's default (64 kB) otherwise. */
  bodyLimit?: string;
  /** Instead of `body`: the body as bytes (inbound webhooks). */
  raw?: RawBodySpec;
  responses: Rs;
  /**
   * A per-user request limit (api/rate-limits.ts), checked before the body is parsed: past it the answer
   * is 429 `rate_limited`, and every answer after the check carries the `RateLimit` fields.
   */
  rateLimit?: RateLimitPolicy;
  /**
   * The refusals the handler can answer with. The compiler holds the handler to this list; the document
   * adds the ones of the middleware (token, admin role, unreadable body, validation).
   */
  errors: E;
}

export type Handler<A extends Access, P, Q, B, Rs, E extends readonly ErrorCode[], H = undefined> = (
  input: EndpointInput<P, Q, B, A, H>,
  ctx: ApiContext,
) => Promise<Reply<Rs> | Refused<E[number]>>;

/** An endpoint with its types erased, as the router and the document builder see it. */
export interface Endpoint extends EndpointSpec<Access, z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined, Record<number, ResponseSpec>, readonly ErrorCode[], z.ZodType | undefined> {
  params?: z.ZodType;
  query?: z.ZodType;
  headers?: z.ZodType;
  body?: z.ZodType;
  handler(input: EndpointInput<unknown, unknown, unknown, Access, unknown>, ctx: ApiContext): Promise<unknown>;
}

/**
 * Declares an endpoint: `endpoint({...spec}).handle(async (input, ctx) => ...)`. Two steps so that the
 * spec alone fixes the types the handler is checked against (its statuses, bodies and refusal codes);
 * in one object, TypeScript would widen the handler's `status: 200` to `number` while inferring them.
 */
export function endpoint<
  const A extends Access,
  const Rs extends Record<number, ResponseSpec>,
  const E extends readonly ErrorCode[],
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  H extends z.ZodType | undefined = undefined,
>(spec: EndpointSpec<A, P, Q, B, Rs, E, H>): { handle(handler: Handler<A, P, Q, B, Rs, E, H>): Endpoint } {
  return { handle: (handler) => ({ ...spec, handler }) as unknown as Endpoint };
}

const EMPTY = Buffer.alloc(0);

/** Express's form of an OpenAPI path: `{id}` becomes `:id`. */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

/** Adds the endpoint to `router`, which is mounted at `prefix`. */
export function mountEndpoint(router: Router, e: Endpoint, ctx: ApiContext, prefix = ''): void {
  if (!e.path.startsWith(prefix)) throw new Error(`${e.operationId}: ${e.path} is not under ${prefix}`);
  const handle: RequestHandler = async (req, res) => {
    const input: EndpointInput<unknown, unknown, unknown, Access, unknown> = {
      params: e.params ? parse(e.params, req.params, 'path') : undefined,
      query: e.query ? parse(e.query, req.query, 'query') : undefined,
      headers: e.headers ? parse(e.headers, req.headers, 'header') : undefined,
      body: e.body ? parse(e.body, req.body ?? {}, 'body') : undefined,
      auth: req.auth,
      cookies: declaredCookies(e, req.headers.cookie),
      request: { raw: Buffer.isBuffer(req.body) ? req.body : EMPTY, headers: req.headers, originalUrl: req.originalUrl },
    };
    await send(res, (await e.handler(input, ctx)) as AnyReply);
  };
  const path = expressPath(e.path.slice(prefix.length)) || '/';
  const limit = e.rateLimit ? [ctx.rateLimits.middleware(e.rateLimit)] : [];
  if (e.raw) router[e.method](path, ...limit, express.raw({ type: () => true, limit: e.raw.limit }), handle);
  else router[e.method](path, ...limit, ...(e.body ? [requireBodyType(e.bodyMediaTypes ?? ['application/json']), handle] : [handle]));
}

function declaredCookies(e: Endpoint, header: string | undefined): Record<string, string | undefined> {
  if (!e.readsCookies?.length || !header) return {};
  const all = parseCookies(header);
  return Object.fromEntries(e.readsCookies.map((c) => [c.name, all[c.name]]));
}

type AnyReply =
  | Refused<ErrorCode>
  | WithCookies<
      | { status: number; body: unknown }
      | { status: number; redirect: string }
      | { status: number; file: string }
      | { status: number; text: string; type: string }
      | { status: number; stream: StreamWriter }
      | { status: number }
    >;

async function send(res: Response, reply: AnyReply): Promise<void> {
  if ('refused' in reply) {
    const { code, message, details } = reply.refused;
    throw apiError(code, message, details);
  }
  for (const c of reply.cookies ?? []) {
    res.cookie(c.name, c.value, { path: c.path, maxAge: c.maxAgeSeconds * 1000, secure: c.secure, httpOnly: c.httpOnly, sameSite: c.sameSite });
  }
  if ('body' in reply) {
    res.status(reply.status).json(reply.body);
  } else if ('redirect' in reply) {
    res.redirect(reply.status, reply.redirect);
  } else if ('file' in reply) {
    res.status(reply.status);
    await new Promise<void>((resolve, reject) => res.sendFile(reply.file, (err) => (err ? reject(err) : resolve())));
  } else if ('text' in reply) {
    res.status(reply.status).type(reply.type).send(reply.text);
  } else if ('stream' in reply) {
    res.status(reply.status);
    await reply.stream(res, res.req);
  } else {
    res.status(reply.status).end();
  }
}
