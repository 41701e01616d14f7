import { endpoint, type SetCookie } from '../../endpoint';
import { CODEC_COOKIE, CODEC_SESSION_SECONDS } from '../../middleware/codec';

/** HttpOnly, only to /codec, SameSite=Strict (the UI and the API on one site), Secure over https. */
const sessionCookie = (value: string, maxAgeSeconds: number, secure: boolean): SetCookie => ({
  name: CODEC_COOKIE,
  value,
  path: '/codec',
  maxAgeSeconds,
  secure,
  httpOnly: true,
  sameSite: 'strict',
});

/**
 * A page on this API where an operator pastes an admin token once, so this browser holds a codec
 * session cookie: the Temporal Web UI without sign-on can send cookies to the codec endpoint, not
 * headers. The script is a file rather than inline, so a Content-Security-Policy of 'self' keeps working.
 */
const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>tourhub: decode payloads in the Temporal UI</title>
  <style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem}textarea{width:100%;font:13px monospace}</style>
</head>
<body>
  <h1>Decode payloads in the Temporal UI</h1>
  <p>Tour payloads are encrypted in Temporal. Paste an admin token of this API
  (<code>npx tourhub token --org &lt;org&gt; --user &lt;admin id&gt; --role admin</code>) to let this browser decode them
  for 8 hours. Then, in the Temporal Web UI's codec server settings, turn on
  <em>Include cross-origin credentials</em>.</p>
  <form id="session">
    <p><label for="token">Admin token</label><br><textarea id="token" rows="5" required autocomplete="off"></textarea></p>
    <p><button type="submit">Start a codec session</button> <button type="button" id="end">End it</button></p>
  </form>
  <p id="result" role="status"></p>
  <script src="/codec/session.js"></script>
</body>
</html>
`;

const SCRIPT = `(() => {
  const result = document.getElementById('result');
  const say = (text) => { result.textContent = text; };
  document.getElementById('session').addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = document.getElementById('token').value.trim();
    const res = await fetch('/codec/session', { method: 'POST', headers: { Authorization: 'Bearer ' + token } });
    document.getElementById('token').value = '';
    if (res.status === 204) return say('This browser can decode payloads in the Temporal UI for 8 hours.');
    const body = await res.json().catch(() => ({}));
    say('Refused: ' + ((body.error && body.error.message) || res.status));
  });
  document.getElementById('end').addEventListener('click', async () => {
    await fetch('/codec/session', { method: 'DELETE' });
    say('The codec session of this browser has ended.');
  });
})();
`;

export const codecSessionPage = endpoint({
  operationId: 'getCodecSessionPage',
  method: 'get',
  path: '/codec/session',
  tag: 'Codec',
  summary: 'A page that starts a codec session in this browser from an admin token',
  access: 'public',
  responses: { 200: { description: 'The page', content: ['text/html'] } },
  errors: [],
}).handle(async () => ({ status: 200, text: PAGE, type: 'html' }));

export const codecSessionScript = endpoint({
  operationId: 'getCodecSessionScript',
  method: 'get',
  path: '/codec/session.js',
  tag: 'Codec',
  summary: "The session page's script",
  access: 'public',
  responses: { 200: { description: 'The script', content: ['text/javascript'] } },
  errors: [],
}).handle(async () => ({ status: 200, text: SCRIPT, type: 'text/javascript' }));

export const startCodecSession = endpoint({
  operationId: 'startCodecSession',
  method: 'post',
  path: '/codec/session',
  tag: 'Codec',
  summary: 'Set the codec session cookie (8 hours) for the admin whose bearer token this is',
  description: 'The cookie (`tourhub_codec`: HttpOnly, Path=/codec, SameSite=Strict, Secure over https) authenticates `/codec/decode` and `/codec/encode` from the Web UI.',
  access: 'admin',
  responses: { 204: { description: 'Started', setsCookie: 'The codec session (`tourhub_codec`), for 8 hours' } },
  errors: [],
}).handle(async ({ auth }, ctx) => ({
  status: 204,
  cookies: [sessionCookie(await ctx.codec.sessions.issue(auth), CODEC_SESSION_SECONDS, ctx.codec.sessions.secure)],
}));

export const endCodecSession = endpoint({
  operationId: 'endCodecSession',
  method: 'delete',
  path: '/codec/session',
  tag: 'Codec',
  summary: "End this browser's codec session",
  access: 'public',
  responses: { 204: { description: 'Ended', setsCookie: 'The codec session cookie, cleared' } },
  errors: [],
}).handle(async (_input, ctx) => ({ status: 204, cookies: [sessionCookie('', 0, ctx.codec.sessions.secure)] }));
