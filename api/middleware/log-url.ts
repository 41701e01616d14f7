/**
 * Query parameters whose values are credentials or one-time proofs: an OAuth callback's `code` and
 * `state`, and the names tokens travel under elsewhere. Request logs keep the parameter, not its value.
 */
const SECRET_PARAMS = new Set(['code', 'state', 'code_verifier', 'token', 'access_token', 'refresh_token', 'id_token', 'client_secret', 'session_state', 'key', 'api_key', 'apikey', 'secret', 'password', 'signature', 'sig']);

/** The URL as a request log should show it: the path as is, the values of secret-bearing parameters replaced. */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of new Set(params.keys())) {
    if (SECRET_PARAMS.has(key.toLowerCase())) params.set(key, '[redacted]');
  }
  // URLSearchParams would percent-encode the brackets; the log is for people.
  return `${url.slice(0, q)}?${params.toString().replace(/%5Bredacted%5D/g, '[redacted]')}`;
}
