/**
 * Shims for nock on Node 20 (its fetch interception comes from @mswjs/interceptors, written for Node 22):
 * - it needs `Promise.withResolvers` (polyfilled here: import this module before nock);
 * - `.delay()` does not hold back a fetch response, so timeouts use `slowReply`;
 * - `replyWithError({ code })` (a plain object) never settles the fetch, so use `connectionReset()`,
 *   an Error carrying the same `code`.
 */
type Resolvers<T> = { promise: Promise<T>; resolve: (value: T) => void; reject: (reason?: unknown) => void };

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T>(): Resolvers<T> {
    let resolve!: (value: T) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

/** A nock reply function that answers only after `ms`, so the caller's timeout fires first. */
export function slowReply(ms: number, status = 200, body: unknown = {}) {
  return async (): Promise<[number, unknown]> => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return [status, body];
  };
}

/** What `replyWithError` should throw for a peer that reset the connection. */
export function connectionReset(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

/**
 * No real network in this file's tests. With `assertDone`, every interceptor a test sets up must have
 * been called by the end of that test. (after-env.ts restores nock itself once the file is done.)
 */
export function useNock(opts: { assertDone?: boolean } = {}): void {
  // Loaded here, not imported at the top: the polyfill above must run before nock does.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nock = require('nock') as typeof import('nock');
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => {
    const done = nock.isDone();
    nock.cleanAll();
    if (opts.assertDone) expect(done).toBe(true);
  });
  afterAll(() => nock.enableNetConnect());
}
