import path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(__dirname, '..', '..');
const RULE = '@typescript-eslint/no-restricted-imports';

/** Lints one import line as if it were in `file` (a path under workflows/), and returns the rules that fired. */
async function lintWorkflow(line: string, file: string): Promise<string[]> {
  // The config is passed in, not loaded: ESLint's own loader uses import(), which jest's sandbox refuses.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: require(path.join(root, 'eslint.config.js')) });
  const [result] = await eslint.lintText(`${line}\nexport const x = 1;\n`, { filePath: path.join(root, file) });
  return result!.messages.map((m) => m.ruleId ?? m.message);
}

const FLAT = 'workflows/example.ts';
const NESTED = 'workflows/tour-lifecycle/example.ts';

describe('the workflow sandbox lint rule', () => {
  it.each([
    // Node built-ins, values or types
    ["import fs from 'fs';", FLAT],
    ["import { readFile } from 'node:fs/promises';", FLAT],
    ["import http from 'node:http';", FLAT],
    ["import type { AddressInfo } from 'node:net';", FLAT],
    // activities: values are refused (types are allowed, below)
    ["import { createActivities } from '../activities';", FLAT],
    ["import { requestSummary } from '../activities/deliver';", FLAT],
    ["import { createActivities } from '../../activities';", NESTED],
    // db, connectors, api: refused even as types, and as re-exports
    ["import { createDb } from '../db/knex';", FLAT],
    ["import type { ProgressRow } from '../db/repositories/progress';", FLAT],
    ["import type { ProgressRow } from '../../db/repositories/progress';", NESTED],
    ["import { tave } from '../connectors/crm/tave';", FLAT],
    ["import type { CategoryConnectors } from '../connectors/contracts';", FLAT],
    ["import type { TourWorkflows } from '../../api/temporal';", NESTED],
    ["import { createApp } from '../api/app';", FLAT],
    ["export type { ProgressRow } from '../db/repositories/progress';", FLAT],
    // the other layers above workflows
    ["import type { Config } from '../config';", FLAT],
    ["import { main } from '../../cli/main';", NESTED],
    // any package but the SDK's workflow modules
    ["import { Client } from '@temporalio/client';", FLAT],
    ["import { Worker } from '@temporalio/worker';", FLAT],
    ["import { z } from 'zod';", FLAT],
  ])('forbids %s in %s', async (line, file) => {
    expect(await lintWorkflow(line, file)).toContain(RULE);
  });

  it.each([
    ["import type { Activities } from '../activities';", FLAT],
    ["import type { DeliveryResult } from '../../activities/deliver';", NESTED],
    ["import { type Activities } from '../activities';", FLAT],
    ["import { proxyActivities } from '@temporalio/workflow';", FLAT],
    ["import { defineSearchAttributeKey } from '@temporalio/common';", FLAT],
    ["import { apply } from '../domain/tour-state';", FLAT],
    ["import type { PlannedDelivery } from '../../domain/hub';", NESTED],
    ["import { providerTaskQueue } from './task-queues';", FLAT],
    ["import { runDelivery } from '../deliveries';", NESTED],
    ["import { tourStateQuery } from './messages';", NESTED],
  ])('allows %s in %s', async (line, file) => {
    expect(await lintWorkflow(line, file)).not.toContain(RULE);
  });

  it('applies only to workflows/: an activity may import db', async () => {
    expect(await lintWorkflow("import { createDb } from '../db/knex';", 'activities/example.ts')).not.toContain(RULE);
  });
});

describe('the SQL text rule', () => {
  async function lint(code: string, file = 'db/repositories/example.ts'): Promise<string[]> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: require(path.join(root, 'eslint.config.js')) });
    const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
    return result!.messages.map((m) => m.ruleId ?? m.message);
  }

  it.each(['db/repositories/example.ts', 'services/example.ts', 'test/db/example.test.ts'])("refuses knex's toQuery() in %s", async (file) => {
    const code = "import type { Knex } from 'knex';\nexport const run = (db: Knex) => db.raw(`${db('t').insert({ a: 1 }).toQuery()} on conflict do nothing`);\n";
    expect(await lint(code, file)).toContain('no-restricted-properties');
  });

  it('allows bound values', async () => {
    const code = "import type { Knex } from 'knex';\nexport const run = (db: Knex) => db.raw('select ?::text', ['a?$1']);\n";
    expect(await lint(code)).not.toContain('no-restricted-properties');
  });
});
