import { installResponseCheck } from './openapi-check';

// Every supertest request of every suite is checked against the OpenAPI document.
installResponseCheck();

/**
 * Runs in every test file. Each file gets its own copy of nock (jest's module registry is per file),
 * but the HTTP and fetch patches nock installs are process-wide: a file that leaves them active makes
 * the next file's nock run stacked on top of a stale interceptor. Restore after every file.
 */
afterAll(() => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nock = require('nock') as typeof import('nock');
  nock.cleanAll();
  nock.enableNetConnect();
  if (nock.isActive()) nock.restore();
});
