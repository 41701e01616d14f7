import fs from 'node:fs';
import path from 'node:path';

/**
 * The house rule is "say in docs/ why each library is there": a dependency added without its row in
 * docs/libraries.md fails here. `@types/x` and the Temporal packages may be named as a family
 * (`@types/*`, `@temporalio/client`, `worker`, ...), so a package counts as explained when its full
 * name or, inside its scope's family row, its bare name is in backticks.
 */
const repo = path.resolve(__dirname, '..', '..');

test('every dependency in package.json has a reason in docs/libraries.md', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  const doc = fs.readFileSync(path.join(repo, 'docs', 'libraries.md'), 'utf8');
  const rows = doc.split('\n').filter((l) => l.startsWith('|'));
  const explained = (name: string): boolean => {
    if (doc.includes(`\`${name}\``)) return true;
    const scoped = /^(@[^/]+)\/(.+)$/.exec(name);
    if (!scoped) return false;
    const [, scope, bare] = scoped;
    return rows.some((row) => row.includes(`\`${scope}/`) && row.includes(`\`${bare}\``));
  };
  const missing = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})].filter((name) => !explained(name));
  expect(missing).toEqual([]);
});
