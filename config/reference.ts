import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { envSchema, type VariableDoc } from './index';

/**
 * The configuration table of docs/configuration.md, written from envSchema's metadata so the doc cannot
 * drift from what the code accepts. `npm run docs:config` rewrites the table between the markers;
 * test/hygiene/config-docs.test.ts fails when the committed doc differs from what this would write.
 */

export const CONFIG_DOC = path.resolve(__dirname, '..', 'docs', 'configuration.md');
export const TABLE_START = '<!-- config-table:start (generated from config/index.ts by `npm run docs:config`; edit the schema, not this table) -->';
export const TABLE_END = '<!-- config-table:end -->';

interface Def {
  type: string;
  defaultValue?: unknown;
  in?: z.ZodType;
  innerType?: z.ZodType;
  entries?: Record<string, string>;
}
const def = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The schema's own default as written in the environment (durations keep their text: `24h`, not ms). */
function schemaDefault(schema: z.ZodType): unknown {
  const d = def(schema);
  if (d.type === 'default') return d.defaultValue;
  if (d.type === 'pipe' && d.in) return schemaDefault(d.in);
  return undefined;
}

/** The values of an enum, wherever it sits under defaults and pipes. */
function enumValues(schema: z.ZodType): string[] | undefined {
  const d = def(schema);
  if (d.type === 'enum' && d.entries) return Object.values(d.entries);
  if (d.type === 'default' && d.innerType) return enumValues(d.innerType);
  if (d.type === 'pipe' && d.in) return enumValues(d.in);
  return undefined;
}

export interface VariableRow {
  variable: string;
  default: string;
  meaning: string;
}

export function configRows(shape: Record<string, z.ZodType> = envSchema.shape): VariableRow[] {
  return Object.entries(shape).map(([variable, schema]) => {
    const meta = (schema as z.ZodType).meta() as Partial<VariableDoc> | undefined;
    if (!meta?.description) throw new Error(`${variable} has no description in config/index.ts (add .meta(doc('...')))`);
    const raw = schemaDefault(schema as z.ZodType);
    // HUB_ATTEMPT_TIMEOUT's "0" means "derived": its shownDefault says from what.
    const shown = meta.shownDefault ?? (raw === undefined ? '' : `\`${String(raw)}\``);
    const values = enumValues(schema as z.ZodType);
    const meaning = values ? `${meta.description} (${values.map((v) => `\`${v}\``).join(', ')})` : meta.description;
    return { variable: `\`${variable}\``, default: shown, meaning };
  });
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function configTable(): string {
  const lines = ['| variable | default | meaning |', '| --- | --- | --- |'];
  for (const row of configRows()) lines.push(`| ${cell(row.variable)} | ${cell(row.default)} | ${cell(row.meaning)} |`);
  return lines.join('\n');
}

/** `doc` with the text between the markers replaced by the current table. */
export function withConfigTable(doc: string): string {
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`docs/configuration.md needs the markers ${TABLE_START} and ${TABLE_END}`);
  return `${doc.slice(0, start + TABLE_START.length)}\n${configTable()}\n${doc.slice(end)}`;
}

if (require.main === module) {
  const before = fs.readFileSync(CONFIG_DOC, 'utf8');
  const after = withConfigTable(before);
  if (after === before) {
    process.stdout.write(`${path.relative(process.cwd(), CONFIG_DOC)} is up to date\n`);
  } else {
    fs.writeFileSync(CONFIG_DOC, after);
    process.stdout.write(`rewrote the configuration table in ${path.relative(process.cwd(), CONFIG_DOC)}\n`);
  }
}
