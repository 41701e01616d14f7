/**
 * Whether an error means Postgres could not be reached or went away mid-query (an outage, a restart, a
 * failover), as opposed to a query that is wrong. Callers answer the first as "retry shortly" and the
 * second as a bug. Walks `cause` chains, since knex and pg wrap the socket's error.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) return true;
    // knex's pool gave up waiting for a connection (acquireConnectionTimeout).
    if (name === 'KnexTimeoutError') return true;
    if (typeof message === 'string' && DRIVER_MESSAGES.some((m) => message.includes(m))) return true;
  }
  return false;
}

/** Socket errors of a connection that could not be made or was cut. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SQLSTATEs of a server that is going away, coming back or full: 57P01 admin_shutdown, 57P02
 * crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections (class 08, connection exceptions,
 * is matched by its prefix).
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** What pg says when the socket closes under it (these errors carry no code). */
const DRIVER_MESSAGES = ['Connection terminated', 'connection error and is not queryable', 'timeout exceeded when trying to connect', 'Client was closed and is not queryable'];
