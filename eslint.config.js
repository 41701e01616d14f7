// @ts-check
const { builtinModules } = require('node:module');
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

/**
 * Workflow code runs in Temporal's deterministic sandbox. A file in workflows/ imports only
 * @temporalio/workflow (and @temporalio/common for what it does not re-export), domain/, other files
 * of workflows/, and activities with `import type` (calls go through proxyActivities). Nothing else:
 * no Node built-ins, no other package, and nothing of db/, connectors/, api/ or the other layers above
 * it, not even a type, so the workflow's contract never leans on their shapes.
 */
const workflowSandbox = {
  paths: builtinModules.flatMap((m) => [m, `node:${m}`]).map((name) => ({
    name,
    message: 'Workflows run in a deterministic sandbox: no Node built-ins. Do I/O in an activity.',
  })),
  patterns: [
    {
      group: ['**/activities', '**/activities/**'],
      allowTypeImports: true,
      message: 'Workflows import activities only with `import type`, and call them through proxyActivities.',
    },
    {
      group: ['**/db', '**/db/**', '**/connectors', '**/connectors/**', '**/api', '**/api/**', '**/config', '**/config/**', '**/cli', '**/cli/**', '**/worker', '**/bench', '**/bench/**', '**/migrations/**', '**/test/**'],
      message: 'Workflows import nothing of db/, connectors/, api/ or the layers above them, not even a type: move shared types to domain/.',
    },
    {
      // Any other package (relative paths are matched above, Node built-ins by `paths`).
      regex: `^(?!\\.|@temporalio/(workflow|common)$|node:|(${builtinModules.join('|')})(/|$))`,
      message: 'Workflows import only @temporalio/workflow (and @temporalio/common where it does not re-export), domain/ and their own files.',
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
      // knex's toQuery() inlines the bindings into SQL text; run again as raw SQL, a `?` or `$1` in a
      // person's text becomes a placeholder (issue 10: feedback came back rewritten). Bind values instead.
      'no-restricted-properties': [
        'error',
        { property: 'toQuery', message: 'SQL text built from values is not run: let knex bind them (onConflict().merge(), raw(sql, bindings)).' },
      ],
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
