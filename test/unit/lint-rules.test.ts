import path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(__dirname, '..', '..');

async function lintWorkflow(code: string): Promise<string[]> {
  // The config is passed in, not loaded: ESLint's own loader uses import(), which jest's sandbox refuses.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: require(path.join(root, 'eslint.config.js')) });
  const [result] = await eslint.lintText(code, { filePath: path.join(root, 'workflows', 'example.ts') });
  return result!.messages.map((m) => m.ruleId ?? m.message);
}

describe('the workflow sandbox lint rule', () => {
  it.each([
    ["import fs from 'fs';"],
    ["import { readFile } from 'node:fs/promises';"],
    ["import http from 'node:http';"],
    ["import { createActivities } from '../activities';"],
    ["import { createDb } from '../db/knex';"],
    ["import { tave } from '../connectors/crm/tave';"],
  ])('forbids %s in workflows/', async (line) => {
    expect(await lintWorkflow(`${line}\nexport const x = 1;\n`)).toContain('@typescript-eslint/no-restricted-imports');
  });

  it.each([
    ["import type { Activities } from '../activities';"],
    ["import { proxyActivities } from '@temporalio/workflow';"],
    ["import { apply } from '../domain/tour-state';"],
  ])('allows %s', async (line) => {
    expect(await lintWorkflow(`${line}\nexport const x = 1;\n`)).not.toContain('@typescript-eslint/no-restricted-imports');
  });
});
