import type { RouteGroup } from '../../openapi';
import { decodePayloads, encodePayloads } from './payloads';
import { codecSessionPage, codecSessionScript, endCodecSession, startCodecSession } from './session';

/** The page that starts a session, and its end: no token (ending one needs none). */
export const codecPublicRoutes: RouteGroup = {
  prefix: '/codec',
  access: 'public',
  bodyParsed: false,
  endpoints: [codecSessionPage, codecSessionScript, endCodecSession],
};

/**
 * The codec endpoint the Temporal Web UI and CLI call (`--ui-codec-endpoint http://localhost:3000/codec`),
 * and the start of a browser session: admins only, by bearer token or session cookie (api/middleware/codec.ts).
 */
export const codecRoutes: RouteGroup = {
  prefix: '/codec',
  access: 'admin',
  bodyParsed: true,
  endpoints: [decodePayloads, encodePayloads, startCodecSession],
};
