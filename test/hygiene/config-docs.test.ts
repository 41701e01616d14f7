import fs from 'node:fs';
import { z } from 'zod';
import { envSchema, loadConfig } from '../../config';
import { CONFIG_DOC, configRows, TABLE_END, TABLE_START, withConfigTable } from '../../config/reference';

/** docs/configuration.md's table is written from the schema; these fail when someone edits one and not the other. */

const doc = fs.readFileSync(CONFIG_DOC, 'utf8');

describe('docs/configuration.md', () => {
  it('holds exactly the table `npm run docs:config` writes from config/index.ts', () => {
    // On failure: run `npm run docs:config` and commit the doc.
    expect(doc).toBe(withConfigTable(doc));
  });

  it('lists every variable the schema reads, once, in the schema order', () => {
    const table = doc.slice(doc.indexOf(TABLE_START), doc.indexOf(TABLE_END));
    const listed = [...table.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(listed).toEqual(Object.keys(envSchema.shape));
  });

  it('shows the default the code applies when a variable is unset', () => {
    const config = loadConfig({});
    const shown = Object.fromEntries(configRows().map((r) => [r.variable.replaceAll('`', ''), r.default]));
    expect(shown.PORT).toBe(`\`${config.http.port}\``);
    expect(shown.TEMPORAL_TASK_QUEUE).toBe(`\`${config.temporal.taskQueue}\``);
    expect(shown.LOG_FORMAT).toBe(`\`${config.logFormat}\``);
    expect(shown.HUB_RETRY_MAX_TIME).toBe('`24h`');
    expect(config.hub.retry.maximumTimeMs).toBe(24 * 3_600_000);
  });

  it('refuses to write a table for a variable without a description', () => {
    expect(() => configRows({ ...envSchema.shape, UNDOCUMENTED: z.string().default('x') })).toThrow(/UNDOCUMENTED has no description/);
  });
});
