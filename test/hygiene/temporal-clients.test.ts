import fs from 'node:fs';
import path from 'node:path';

/**
 * Every Temporal client and worker the repository makes encrypts payloads with the product's data
 * converter, and every connection the product makes takes the deployment's TLS and API key: a client
 * without the codec would write plaintext into history (or fail to read what workers wrote), and a
 * connection without the settings would not reach a secured cluster.
 */

const repo = path.resolve(__dirname, '..', '..');
const SKIP = new Set(['node_modules', 'dist', '.tools', '.tourhub', '.git', 'coverage', 'results']);

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(repo, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return SKIP.has(entry.name) ? [] : sources(rel);
    return entry.name.endsWith('.ts') ? [rel] : [];
  });
}

/** The argument text of every call of `callee` in `text`, up to its closing parenthesis. */
function calls(text: string, callee: RegExp): { at: number; args: string }[] {
  const out: { at: number; args: string }[] = [];
  for (const m of text.matchAll(callee)) {
    let depth = 0;
    let i = m.index! + m[0].length - 1; // at the opening parenthesis
    const start = i;
    for (; i < text.length; i++) {
      if (text[i] === '(') depth++;
      else if (text[i] === ')' && --depth === 0) break;
    }
    out.push({ at: m.index!, args: text.slice(start, i + 1) });
  }
  return out;
}

const lineOf = (text: string, at: number) => text.slice(0, at).split('\n').length;
/** A call preceded by this marker deliberately goes without the codec (a test reading raw history). */
const RAW_MARKER = 'without the codec, on purpose';

const all = ['.', 'api', 'bench', 'cli', 'services', 'test'].flatMap((d) => (d === '.' ? fs.readdirSync(repo).filter((f) => f.endsWith('.ts')) : sources(d)));

describe('Temporal clients and workers', () => {
  it('every new Client and Worker.create is given the data converter', () => {
    const missing: string[] = [];
    let found = 0;
    for (const file of all) {
      const text = fs.readFileSync(path.join(repo, file), 'utf8');
      for (const call of [...calls(text, /\bnew Client\(/g), ...calls(text, /\bWorker\.create\(/g), ...calls(text, /\bWorker\.runReplayHistor(?:y|ies)\(/g)]) {
        if (/connectionString/.test(call.args)) continue; // pg's Client
        found++;
        const before = text.slice(Math.max(0, call.at - 300), call.at);
        if (!/dataConverter/.test(call.args) && !before.includes(RAW_MARKER)) missing.push(`${file}:${lineOf(text, call.at)}`);
      }
    }
    expect(missing).toEqual([]);
    expect(found).toBeGreaterThan(10); // the scan sees the calls it is meant to check
  });

  it("every connection the product opens takes the deployment's TLS and API key settings", () => {
    const product = all.filter((f) => !f.startsWith('test/'));
    const bare: string[] = [];
    let found = 0;
    for (const file of product) {
      const text = fs.readFileSync(path.join(repo, file), 'utf8');
      for (const call of calls(text, /\b(?:Native)?Connection\.connect\(/g)) {
        found++;
        // The benchmarks' own private dev server on loopback is the one exception.
        if (file.startsWith('bench/') && /\{ address \}/.test(call.args)) continue;
        if (!/temporalConnectionOptions\(/.test(call.args)) bare.push(`${file}:${lineOf(text, call.at)}`);
      }
    }
    expect(bare).toEqual([]);
    expect(found).toBeGreaterThanOrEqual(4);
  });
});
