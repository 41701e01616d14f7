import { z } from 'zod';
import { endpoint, refused } from '../../endpoint';
import { named } from '../../openapi';

/**
 * The codec server protocol of the Temporal Web UI and CLI: `POST {endpoint}/decode` and
 * `{endpoint}/encode` with `{"payloads": [...]}`, each payload in proto3 JSON (its metadata values and
 * data in base64), answered in the same form.
 */
const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'base64');

const PayloadIn = z.looseObject({
  metadata: z.record(z.string(), base64).optional().describe('Metadata values, base64 (`encoding`, and for ours `encryption-key-id`)'),
  data: base64.optional().describe('The payload, base64'),
});

/** Temporal refuses payloads over 2 MB; a request carries a few (an event's input and its header). */
const CODEC_BODY_LIMIT = '4mb';

const PayloadsBody = z.strictObject({ payloads: z.array(PayloadIn).max(2000) });

const Payloads = named(
  'CodecPayloads',
  z.strictObject({
    payloads: z.array(z.strictObject({ metadata: z.record(z.string(), z.string()), data: z.string() })),
  }),
);

/** Documented as a cookie parameter; api/middleware/codec.ts reads it, before the handler. */
const SESSION_COOKIE = [{ name: 'tourhub_codec', description: 'The codec session `POST /codec/session` started, instead of a bearer token' }] as const;

const AUTH_NOTE =
  'An admin bearer token of this API, or the session cookie `POST /codec/session` sets (the Web UI sends it with "Include cross-origin credentials"). Browsers may call it only from `TEMPORAL_UI_ORIGIN` (CORS).';

export const decodePayloads = endpoint({
  operationId: 'decodePayloads',
  method: 'post',
  path: '/codec/decode',
  tag: 'Codec',
  summary: 'Decrypt Temporal payloads for the Web UI or CLI (payloads without our encoding come back as they are)',
  description: AUTH_NOTE,
  access: 'admin',
  body: PayloadsBody,
  bodyLimit: CODEC_BODY_LIMIT,
  readsCookies: SESSION_COOKIE,
  responses: { 200: { description: 'The payloads, decrypted, in the same order', json: Payloads } },
  errors: ['origin_not_allowed', 'payload_not_decodable'],
}).handle(async ({ body }, ctx) => {
  const result = await ctx.codec.decode(body.payloads);
  if (!result.ok) return refused(result.refusal);
  return { status: 200, body: { payloads: result.value } };
});

export const encodePayloads = endpoint({
  operationId: 'encodePayloads',
  method: 'post',
  path: '/codec/encode',
  tag: 'Codec',
  summary: 'Encrypt payloads with the active key (what the Web UI sends when it starts or signals a workflow)',
  description: AUTH_NOTE,
  access: 'admin',
  body: PayloadsBody,
  bodyLimit: CODEC_BODY_LIMIT,
  readsCookies: SESSION_COOKIE,
  responses: { 200: { description: 'The payloads, encrypted, in the same order', json: Payloads } },
  errors: ['origin_not_allowed'],
}).handle(async ({ body }, ctx) => {
  return { status: 200, body: { payloads: await ctx.codec.encode(body.payloads) } };
});
