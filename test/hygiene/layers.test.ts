import path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(__dirname, '..', '..');

async function lintService(code: string): Promise<string[]> {
  // The config is passed in, not loaded: ESLint's own loader uses import(), which jest's sandbox refuses.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: require(path.join(root, 'eslint.config.js')) });
  const [result] = await eslint.lintText(code, { filePath: path.join(root, 'services', 'example.ts') });
  return result!.messages.map((m) => m.ruleId ?? m.message);
}

describe('the service layer lint rule', () => {
  it.each([["import { apiError } from '../api/middleware/errors';"], ["import type { ApiContext } from '../api/context';"], ["import { loadConfigOrExit } from '../cli/runtime';"]])(
    'forbids %s in services/',
    async (line) => {
      expect(await lintService(`${line}\nexport const x = 1;\n`)).toContain('@typescript-eslint/no-restricted-imports');
    },
  );

  it.each([["import { withTenant } from '../db/tenant';"], ["import { validate } from '../domain/tour-state';"], ["import { tourWorkflowId } from '../workflows/search-attributes';"]])(
    'allows %s',
    async (line) => {
      expect(await lintService(`${line}\nexport const x = 1;\n`)).not.toContain('@typescript-eslint/no-restricted-imports');
    },
  );
});
