export const TEST_APP_PASSWORD = 'tourhub_app_test';
export const TEST_WORKER_PASSWORD = 'tourhub_worker_test';
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-signing';

export const TEST_ENV_KEYS = {
  pgUrl: 'TOURHUB_TEST_PG_URL',
  temporalAddress: 'TOURHUB_TEST_TEMPORAL_ADDRESS',
  temporalBinary: 'TOURHUB_TEST_TEMPORAL_BINARY',
  workflowBundle: 'TOURHUB_TEST_WORKFLOW_BUNDLE',
  root: 'TOURHUB_TEST_ROOT',
} as const;
