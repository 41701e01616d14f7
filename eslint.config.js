// @ts-check
const { builtinModules } = require('node:module');
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

/**
 * Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, and no value imports of
 * activities, connectors or db (types are fine: workflows call activities through proxyActivities).
 */
const workflowSandbox = {
  paths: builtinModules.flatMap((m) => [m, `node:${m}`]).map((name) => ({
    name,
    message: 'Workflows run in a deterministic sandbox: no Node built-ins. Do I/O in an activity.',
  })),
  patterns: [
    {
      group: ['**/activities', '**/activities/**', '**/connectors', '**/connectors/**', '**/db', '**/db/**'],
      allowTypeImports: true,
      message: 'Workflows may import activities, connectors and db only with `import type`; call activities through proxyActivities.',
    },
  ],
};

/**
 * Services sit between the workflows and their two callers, the API and the CLI: they return refusals
 * with codes, and each caller maps them (to HTTP statuses, to text). Importing api/ or cli/ would pull
 * one caller's concerns into the other's path.
 */
const serviceLayer = {
  patterns: [
    {
      group: ['**/api', '**/api/**', '**/cli', '**/cli/**'],
      message: 'Services are shared by the API and the CLI: return a refusal and let each caller map it; import neither.',
    },
  ],
};

module.exports = tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.tourhub/**', '.tools/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', workflowSandbox] },
  },
  {
    files: ['services/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', serviceLayer] },
  },
  {
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
module.exports.workflowSandbox = workflowSandbox;
module.exports.serviceLayer = serviceLayer;
