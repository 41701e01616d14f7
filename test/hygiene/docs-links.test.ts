import fs from 'node:fs';
import path from 'node:path';

/**
 * The README is a front door to docs/: a link that leads nowhere (a moved file, a renamed heading)
 * fails here rather than in a reader's browser.
 */

const repo = path.resolve(__dirname, '..', '..');
const pages = ['README.md', 'bench/README.md', ...fs.readdirSync(path.join(repo, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

function anchors(file: string): Set<string> {
  const text = fs.readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

function links(page: string): { target: string; anchor?: string }[] {
  const text = fs.readFileSync(path.join(repo, page), 'utf8').replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((href) => !/^[a-z]+:/i.test(href))
    .map((href) => {
      const [file, anchor] = href.split('#');
      return { target: file ? path.join(path.dirname(page), file) : page, ...(anchor ? { anchor } : {}) };
    });
}

describe('documentation links', () => {
  it('finds the pages and their links', () => {
    expect(pages).toEqual(expect.arrayContaining(['docs/architecture.md', 'docs/api.md', 'docs/configuration.md', 'docs/operations.md', 'docs/testing.md', 'docs/libraries.md']));
    expect(links('README.md').length).toBeGreaterThan(5);
  });

  it.each(pages)('%s links only to files and headings that exist', (page) => {
    const broken: string[] = [];
    for (const { target, anchor } of links(page)) {
      const file = path.join(repo, target);
      if (!fs.existsSync(file)) broken.push(`${target} (no such file)`);
      else if (anchor && target.endsWith('.md') && !anchors(file).has(anchor)) broken.push(`${target}#${anchor} (no such heading)`);
    }
    expect(broken).toEqual([]);
  });

  it('keeps the README a front door: at most about 250 lines', () => {
    expect(fs.readFileSync(path.join(repo, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(250);
  });
});
